package org.spreadosd.ds.replication;

import java.util.concurrent.CompletionStage;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.model.VersionId;

/**
 * What a member asks of the other members of its set (their logs, inventories, digests) and copies from them;
 * {@link ReplicaClient} over HTTP is the one in production. Each peer is named by its data URL.
 */
public interface ReplicaPeers {
    /** What a copy from a peer did. */
    enum Copied {
        COPIED,
        ALREADY_HERE,
        DELETED_HERE,
        NOT_ON_PEER
    }

    CompletionStage<LogBatch> log(String dataUrl, int rsid, Position from, int max);

    CompletionStage<InventoryPage> inventory(String dataUrl, int rsid, String after, int max);

    CompletionStage<Digests> digests(String dataUrl, int rsid);

    CompletionStage<InventoryPage> bucket(String dataUrl, int rsid, String bucket);

    /** Copies one version from a peer unless this member holds it or deleted it. */
    CompletionStage<ReplicaPeers.Copied> copy(String dataUrl, VersionId v);
}
