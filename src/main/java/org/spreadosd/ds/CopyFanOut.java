package org.spreadosd.ds;

import java.util.concurrent.CompletionStage;
import org.spreadosd.model.VersionId;

/**
 * What a coordinating data server does with a version once it holds it durably: copy it to the set's other members
 * and answer how many durable copies exist, or fail when the set's write policy is not met. Replication
 * ({@code ds.replication.WriteCoordinator}) implements it; the store only calls it, so it knows nothing of peers.
 */
public interface CopyFanOut {
    CompletionStage<Integer> replicate(VersionId v, StoredBlob blob);
}
