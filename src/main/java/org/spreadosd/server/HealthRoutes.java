package org.spreadosd.server;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * Pekko Management's health routes ({@code pekko.management.http.routes.health-checks}), answering what a load
 * balancer understands: 200, or 503 with the reasons (Pekko's own answer 500 for a node that is merely not ready).
 * {@code /ready} also asks the node's {@link NodeReadiness}, so a store disk under its reserve takes the node out of
 * rotation by itself and brings it back once space returns; {@code /alive} stays 200 then, since a restart would
 * free nothing.
 */
public final class HealthRoutes implements ManagementRouteProvider {
    private final HealthCheckSettings settings;
    private final HealthChecks checks;
    private final NodeReadiness readiness;

    public HealthRoutes(ExtendedActorSystem system) {
        this.settings =
                HealthCheckSettings.create(system.settings().config().getConfig("pekko.management.health-checks"));
        this.checks = new HealthChecks(system, settings);
        this.readiness = NodeReadiness.get(system);
    }

    @Override
    public Route routes(ManagementRouteProviderSettings mrps) {
        return Directives.concat(
                route(settings.startupPath(), checks::startupResult, List::of),
                route(settings.readinessPath(), checks::readyResult, readiness::problems),
                route(settings.livenessPath(), checks::aliveResult, List::of));
    }

    private static Route route(
            String path, Supplier<CompletionStage<CheckResult>> checks, Supplier<List<String>> nodeProblems) {
        return Directives.path(
                PathMatchers.separateOnSlashes(path),
                () -> Directives.get(() -> {
                    List<String> problems = nodeProblems.get();
                    if (!problems.isEmpty()) {
                        return Directives.complete(
                                StatusCodes.SERVICE_UNAVAILABLE, "Not Ready: " + String.join("; ", problems));
                    }
                    return Directives.onComplete(checks.get(), result -> {
                        if (result.isFailure()) {
                            return Directives.complete(
                                    StatusCodes.SERVICE_UNAVAILABLE,
                                    "Health Check Failed: "
                                            + result.failed().get().getMessage());
                        }
                        CheckResult r = result.get();
                        return r.isSuccess()
                                ? Directives.complete(StatusCodes.OK, "OK")
                                : Directives.complete(
                                        StatusCodes.SERVICE_UNAVAILABLE,
                                        "Not Healthy: " + r.failure().orElse("?"));
                    });
                }));
    }
}
