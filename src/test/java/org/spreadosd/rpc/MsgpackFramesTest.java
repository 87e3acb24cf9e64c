package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

class MsgpackFramesTest {
    static byte[] request() throws IOException {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(4).packInt(0).packLong(4_000_000_000L).packString("add");
            p.packArrayHeader(3).packBinaryHeader(3).writePayload(new byte[] {1, 2, 3});
            p.packBinaryHeader(70_000).writePayload(new byte[70_000]);
            p.packMapHeader(2)
                    .packString("a")
                    .packString("b")
                    .packRawStringHeader(300)
                    .writePayload(new byte[300])
                    .packNil();
            return p.toByteArray();
        }
    }

    @Test
    void measuresAWholeValueAndNeedsMoreForAPrefix() throws IOException {
        byte[] msg = request();
        assertEquals(msg.length, MsgpackFrames.firstValueLength(ByteString.fromArray(msg), Long.MAX_VALUE));
        for (int cut = 0; cut < msg.length; cut += 997) {
            assertEquals(
                    -1,
                    MsgpackFrames.firstValueLength(ByteString.fromArray(msg, 0, cut), Long.MAX_VALUE),
                    "prefix " + cut);
        }
        assertEquals(-1, MsgpackFrames.firstValueLength(ByteString.fromArray(msg, 0, msg.length - 1), Long.MAX_VALUE));
    }

    @Test
    void findsTheFirstOfSeveralValues() throws IOException {
        byte[] one = request();
        ByteString two = ByteString.fromArray(one).concat(ByteString.fromArray(one));
        assertEquals(one.length, MsgpackFrames.firstValueLength(two, Long.MAX_VALUE));
    }

    @Test
    void refusesGarbageAndOversizedMessages() throws IOException {
        assertThrows(
                MsgpackFrames.MalformedStreamException.class,
                () -> MsgpackFrames.firstValueLength(ByteString.fromArray(new byte[] {(byte) 0xc1}), 100));
        byte[] msg = request();
        assertThrows(
                MsgpackFrames.MalformedStreamException.class,
                () -> MsgpackFrames.firstValueLength(ByteString.fromArray(msg, 0, 40), 1000),
                "the 70000-byte bin is refused from its header alone");
    }

    @Test
    void aContainerDeclaringMoreValuesThanFitIsRefusedFromItsHeader() {
        // each value takes at least one byte: 2^32 - 1 of them can never fit in 1000 bytes
        byte[] array32 = {(byte) 0xdd, -1, -1, -1, -1, 1, 2, 3};
        assertThrows(
                MsgpackFrames.TooLargeException.class,
                () -> MsgpackFrames.firstValueLength(ByteString.fromArray(array32), 1000));
        byte[] map16 = {(byte) 0x94, 0, 1, (byte) 0xa3, 'g', 'e', 't', (byte) 0xde, 0x02, 0x00};
        assertThrows(
                MsgpackFrames.TooLargeException.class,
                () -> MsgpackFrames.firstValueLength(ByteString.fromArray(map16), 1000),
                "a map of 512 entries is 1024 values");
        assertEquals(1, MsgpackFrames.requestId(ByteString.fromArray(map16)), "answerable by its msgid");
        assertEquals(-1, MsgpackFrames.firstValueLength(ByteString.fromArray(map16), 2000), "fits 2000 bytes");
    }
}
