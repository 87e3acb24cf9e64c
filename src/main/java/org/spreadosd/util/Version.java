package org.spreadosd.util;

import picocli.CommandLine.IVersionProvider;

/** The software version, from the jar manifest (Maven's project version). */
public final class Version implements IVersionProvider {
    public static String current() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"SpreadOSD " + current()};
    }
}
