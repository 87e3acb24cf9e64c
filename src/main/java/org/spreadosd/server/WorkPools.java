package org.spreadosd.server;

import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.spreadosd.ds.DataStore;

/**
 * The thread pools blocking work runs on, one per kind of wait (reference.conf, {@code spreadosd.mds-dispatcher}
 * and {@code spreadosd.disk-dispatcher}), so a slow disk never holds up a metadata read and a slow metadata store
 * never holds up the disk.
 *
 * @param metadata JDBC calls to the metadata store
 * @param disk calls into the data store and other files of the node (its copy of the configuration)
 */
record WorkPools(Executor metadata, Executor disk) {
    static final String METADATA_DISPATCHER = "spreadosd.mds-dispatcher";

    static WorkPools of(ActorSystem<?> system) {
        return new WorkPools(
                system.dispatchers().lookup(DispatcherSelector.fromConfig(METADATA_DISPATCHER)),
                system.dispatchers().lookup(DispatcherSelector.fromConfig(DataStore.DISPATCHER)));
    }
}
