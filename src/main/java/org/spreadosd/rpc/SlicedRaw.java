package org.spreadosd.rpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.msgpack.core.MessagePacker;
import org.msgpack.value.ImmutableBinaryValue;
import org.msgpack.value.ImmutableStringValue;
import org.msgpack.value.Value;
import org.msgpack.value.impl.ImmutableBinaryValueImpl;
import org.msgpack.value.impl.ImmutableStringValueImpl;

/**
 * A large bin or str argument kept as a slice of the message that carried it instead of a copy: the message is
 * already counted in the node's buffer budget, a decoded copy beside it would not be. {@link RpcArgs#bytes} hands the
 * slice on; the other accessors copy, as msgpack's own values do.
 */
final class SlicedRaw {
    private static final byte[] NONE = new byte[0];

    private SlicedRaw() {}

    /** The bytes of {@code v} without a copy when it is a slice, else null. */
    static ByteString slice(Value v) {
        if (v instanceof Binary b) {
            return b.bytes;
        }
        if (v instanceof Text t) {
            return t.bytes;
        }
        return null;
    }

    static final class Binary extends ImmutableBinaryValueImpl {
        private final ByteString bytes;

        Binary(ByteString bytes) {
            super(NONE);
            this.bytes = bytes;
        }

        @Override
        public byte[] asByteArray() {
            return bytes.toArray();
        }

        @Override
        public ByteBuffer asByteBuffer() {
            return bytes.asByteBuffer();
        }

        @Override
        public String asString() {
            return bytes.decodeString(StandardCharsets.UTF_8);
        }

        @Override
        public String toJson() {
            return new ImmutableBinaryValueImpl(asByteArray()).toJson();
        }

        @Override
        public String toString() {
            return "(" + bytes.size() + " bytes)";
        }

        @Override
        public ImmutableBinaryValue immutableValue() {
            return this;
        }

        @Override
        public ImmutableBinaryValue asBinaryValue() {
            return this;
        }

        @Override
        public void writeTo(MessagePacker p) throws IOException {
            p.packBinaryHeader(bytes.size());
            for (ByteBuffer b : bytes.getByteBuffers()) {
                p.writePayload(copy(b));
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Value v
                    && v.isBinaryValue()
                    && bytes.equals(ByteString.fromArrayUnsafe(v.asRawValue().asByteArray()));
        }

        @Override
        public int hashCode() {
            return new ImmutableBinaryValueImpl(asByteArray()).hashCode();
        }
    }

    static final class Text extends ImmutableStringValueImpl {
        private final ByteString bytes;

        Text(ByteString bytes) {
            super(NONE);
            this.bytes = bytes;
        }

        @Override
        public byte[] asByteArray() {
            return bytes.toArray();
        }

        @Override
        public ByteBuffer asByteBuffer() {
            return bytes.asByteBuffer();
        }

        @Override
        public String asString() {
            return bytes.decodeString(StandardCharsets.UTF_8);
        }

        @Override
        public String toJson() {
            return new ImmutableStringValueImpl(asByteArray()).toJson();
        }

        @Override
        public String toString() {
            return "(" + bytes.size() + " bytes)";
        }

        @Override
        public ImmutableStringValue immutableValue() {
            return this;
        }

        @Override
        public ImmutableStringValue asStringValue() {
            return this;
        }

        @Override
        public void writeTo(MessagePacker p) throws IOException {
            p.packRawStringHeader(bytes.size());
            for (ByteBuffer b : bytes.getByteBuffers()) {
                p.writePayload(copy(b));
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Value v
                    && v.isStringValue()
                    && bytes.equals(ByteString.fromArrayUnsafe(v.asRawValue().asByteArray()));
        }

        @Override
        public int hashCode() {
            return new ImmutableStringValueImpl(asByteArray()).hashCode();
        }
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
