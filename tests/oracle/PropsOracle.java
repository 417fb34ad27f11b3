// PropsOracle — the reference for decryptor/parse_properties.c: java.util.Properties.load
// on each file read as UTF-8. One JVM for all files (`java PropsOracle.java f1 f2 ...`,
// single-file source launch, Java 11+). Prints one JSON line per file:
//   {"file":"<base name>","ok":true,"props":{"key":"value",...}}
//   {"file":"<base name>","ok":false,"error":"..."}
// Non-ASCII and control characters are written as JSON backslash-u escapes of UTF-16 units.
// The input is decoded strictly (malformed UTF-8 is an error instead of U+FFFD), and a
// result that UTF-8 cannot carry (an unpaired surrogate from a backslash-u escape) or a key
// holding U+0000 is reported as an error: those are smc's documented refusals.
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;
import java.util.TreeSet;

public class PropsOracle {
    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static boolean unpaired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return true;
            }
            if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        for (String a : args) {
            Path p = Paths.get(a);
            String head = "{\"file\":" + q(p.getFileName().toString());
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(Files.readAllBytes(p))).toString();
            } catch (CharacterCodingException e) {
                out.println(head + ",\"ok\":false,\"error\":\"invalid UTF-8\"}");
                continue;
            }
            Properties props = new Properties();
            try {
                props.load(new StringReader(text));
            } catch (IllegalArgumentException e) {
                out.println(head + ",\"ok\":false,\"error\":" + q(String.valueOf(e.getMessage())) + "}");
                continue;
            }
            StringBuilder b = new StringBuilder();
            String problem = null;
            for (String k : new TreeSet<>(props.stringPropertyNames())) {
                String v = props.getProperty(k);
                if (unpaired(k) || unpaired(v)) {
                    problem = "unpaired surrogate";
                } else if (k.indexOf('\0') >= 0) {
                    problem = "key contains U+0000";
                }
                b.append(b.length() == 0 ? "" : ",").append(q(k)).append(':').append(q(v));
            }
            if (problem != null) {
                out.println(head + ",\"ok\":false,\"error\":" + q(problem) + "}");
            } else {
                out.println(head + ",\"ok\":true,\"props\":{" + b + "}}");
            }
        }
        out.flush();
    }
}
