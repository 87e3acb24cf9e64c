package org.spreadosd.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An aligned text table: a header row of column names, then one row per entry, columns padded to their widest cell. */
final class TextTable {
    private TextTable() {}

    static String render(List<String> columns, List<? extends Map<String, ?>> rows) {
        int[] widths = new int[columns.size()];
        List<List<String>> cells = new ArrayList<>();
        cells.add(columns);
        for (Map<String, ?> row : rows) {
            cells.add(columns.stream()
                    .map(c -> row.get(c) == null ? "-" : String.valueOf(row.get(c)))
                    .toList());
        }
        for (List<String> line : cells) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], line.get(i).length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> line : cells) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                l.append(i == 0 ? "" : "  ")
                        .append(line.get(i))
                        .append(" ".repeat(widths[i] - line.get(i).length()));
            }
            out.append(l.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
