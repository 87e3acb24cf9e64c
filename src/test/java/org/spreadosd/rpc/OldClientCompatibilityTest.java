package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.MessagePack;
import org.msgpack.packer.Packer;
import org.msgpack.type.Value;
import org.msgpack.unpacker.Unpacker;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * A client built on msgpack-java 0.6.7, an old-spec release of the original SpreadOSD Java client's
 * era: it encodes every string as raw and fails on the newer types ("Invalid byte: -60" for bin8),
 * so these calls succeed only if the server answers an old-spec client in the old spec.
 */
class OldClientCompatibilityTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    @Test
    void anOldSpecClientAddsAndReadsBack() throws IOException {
        MessagePack msgpack = new MessagePack();
        try (Socket socket = new Socket("127.0.0.1", standalone.node().rpcPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            Unpacker in = msgpack.createUnpacker(socket.getInputStream());
            byte[] data = new byte[300];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) i;
            }

            Packer add = msgpack.createPacker(out);
            add.writeArrayBegin(4)
                    .write(0)
                    .write(1)
                    .write("add")
                    .writeArrayBegin(3)
                    .write("old-client".getBytes())
                    .write(data)
                    .writeMapBegin(1)
                    .write("type".getBytes())
                    .write("bin".getBytes())
                    .writeMapEnd()
                    .writeArrayEnd()
                    .writeArrayEnd();
            out.flush();
            Value[] addAnswer = in.readValue().asArrayValue().getElementArray();
            assertTrue(addAnswer[2].isNilValue(), "error: " + addAnswer[2]);
            Value[] okey = addAnswer[3].asArrayValue().getElementArray();
            assertArrayEquals("old-client".getBytes(), okey[0].asRawValue().getByteArray());

            Packer get = msgpack.createPacker(out);
            get.writeArrayBegin(4)
                    .write(0)
                    .write(2)
                    .write("get")
                    .writeArrayBegin(1)
                    .write("old-client".getBytes())
                    .writeArrayEnd()
                    .writeArrayEnd();
            out.flush();
            Value[] answer = in.readValue().asArrayValue().getElementArray();
            assertEquals(2, answer[1].asIntegerValue().getInt());
            Value[] result = answer[3].asArrayValue().getElementArray();
            assertArrayEquals(data, result[0].asRawValue().getByteArray());
            Value type = result[1]
                    .asMapValue()
                    .get(msgpack.createBufferUnpacker(msgpack.write("type".getBytes()))
                            .readValue());
            assertEquals("bin", type.asRawValue().getString());

            Packer stat = msgpack.createPacker(out);
            stat.writeArrayBegin(4)
                    .write(0)
                    .write(3)
                    .write("stat")
                    .writeArrayBegin(1)
                    .write("nodes".getBytes())
                    .writeArrayEnd()
                    .writeArrayEnd();
            out.flush();
            Value[] nodes = in.readValue()
                    .asArrayValue()
                    .getElementArray()[3]
                    .asArrayValue()
                    .getElementArray();
            assertEquals(5, nodes[0].asArrayValue().size(), "[nid, address, name, rsids, location]");
        }
    }
}
