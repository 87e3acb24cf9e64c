package org.spreadosd;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The package layout as rules, so that it stays the way the README draws it: no package depends on itself through
 * others, and dependencies follow the request flow downwards (a front end calls the gateway, which calls the data
 * servers and the metadata store, which rest on the model).
 */
class ArchitectureTest {
    static final JavaClasses PRODUCTION = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.spreadosd");

    @Test
    void noPackageDependsOnItself() {
        slices().matching("org.spreadosd.(**)").should().beFreeOfCycles().check(PRODUCTION);
    }

    @Test
    void dependenciesFollowTheRequestFlow() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("base")
                .definedBy(
                        "org.spreadosd.model..",
                        "org.spreadosd.failure..",
                        "org.spreadosd.util..",
                        "org.spreadosd.edge..")
                .layer("wire protocol")
                .definedBy("org.spreadosd.rpc..")
                .layer("metadata store")
                .definedBy("org.spreadosd.mds..")
                .layer("cluster model")
                .definedBy("org.spreadosd.cluster..")
                .layer("data server")
                .definedBy("org.spreadosd.ds..")
                .layer("gateway")
                .definedBy("org.spreadosd.gw")
                .layer("front ends")
                .definedBy("org.spreadosd.gw.http..", "org.spreadosd.gw.rpc..")
                .layer("config server")
                .definedBy("org.spreadosd.cs..")
                .layer("process")
                .definedBy("org.spreadosd.server..")
                .layer("tools")
                .definedBy("org.spreadosd.cli..", "org.spreadosd.bench..")
                .whereLayer("tools")
                .mayNotBeAccessedByAnyLayer()
                .whereLayer("process")
                .mayOnlyBeAccessedByLayers("tools")
                .whereLayer("front ends")
                .mayOnlyBeAccessedByLayers("process")
                .whereLayer("config server")
                .mayOnlyBeAccessedByLayers("process")
                .whereLayer("gateway")
                .mayOnlyBeAccessedByLayers("front ends", "config server", "process")
                .whereLayer("data server")
                .mayOnlyBeAccessedByLayers("gateway", "front ends", "process")
                .whereLayer("wire protocol")
                .mayOnlyBeAccessedByLayers("front ends", "config server", "process", "tools")
                .whereLayer("cluster model")
                .mayOnlyBeAccessedByLayers("data server", "gateway", "front ends", "config server", "process")
                .check(PRODUCTION);
    }
}
