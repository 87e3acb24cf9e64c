package org.spreadosd.gw.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * Status pages of the HTTP API: a small HTML page by default (the operator may replace its template
 * with {@code --http-error-page}), or {@code {"error": ..., "status": N}} for clients that accept JSON.
 * The template's placeholders are {@code {{status}}}, {@code {{title}}} and {@code {{message}}}.
 */
public final class ErrorPages {
    public static final String DEFAULT_TEMPLATE = """
            <html>
            <head>
            <title>{{status}} {{title}}</title>
            </head>
            <body>
            <center><h1>{{status}} {{title}}</h1></center>
            <p>{{message}}</p>
            <hr>
            <center>SpreadOSD</center>
            </body>
            </html>
            """;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String template;

    public ErrorPages(String template) {
        this.template = template;
    }

    public static ErrorPages load(Path templateFile) throws IOException {
        return new ErrorPages(
                templateFile == null ? DEFAULT_TEMPLATE : Files.readString(templateFile, StandardCharsets.UTF_8));
    }

    public HttpResponse page(HttpRequest request, int status, String message) {
        String title = StatusCodes.get(status).reason();
        if (acceptsJson(request)) {
            ObjectNode node = JSON.createObjectNode();
            node.put(status < 400 ? "message" : "error", message == null ? title : message);
            node.put("status", status);
            return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, node.toString());
        }
        String html = template.replace("{{status}}", Integer.toString(status))
                .replace("{{title}}", escape(title))
                .replace("{{message}}", escape(message == null ? "" : message));
        return HttpResponse.create().withStatus(status).withEntity(ContentTypes.TEXT_HTML_UTF8, html);
    }

    static boolean acceptsJson(HttpRequest request) {
        return request.getHeader("Accept")
                .map(h -> h.value().contains("application/json"))
                .orElse(false);
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c < 0x20 && c != '\n' && c != '\t' ? '?' : c);
            }
        }
        return sb.toString();
    }
}
