package org.spreadosd.gw;

import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobLink;
import org.spreadosd.ds.BlobStreamClient;

/**
 * How a gateway reaches each data server: over the byte-stream HTTP API, except the DS of its own process
 * (standalone, or a node with both roles), which it calls directly and so spares every request a second
 * HTTP exchange over loopback.
 */
public final class DataLinks {
    private final BlobStreamClient remote;
    private final int localNid;
    private final BlobLink local;

    private DataLinks(BlobStreamClient remote, int localNid, BlobLink local) {
        this.remote = remote;
        this.localNid = localNid;
        this.local = local;
    }

    /** Every data server over HTTP. */
    public static DataLinks remote(BlobStreamClient remote) {
        return new DataLinks(remote, -1, null);
    }

    /** Data server {@code localNid} in this process through {@code local}, the others over HTTP. */
    public static DataLinks withLocal(BlobStreamClient remote, int localNid, BlobLink local) {
        return new DataLinks(remote, localNid, local);
    }

    public BlobLink to(NodeInfo node) {
        return local != null && node.nid() == localNid ? local : remote.to(node.dataUrl());
    }

    public BlobStreamClient remote() {
        return remote;
    }
}
