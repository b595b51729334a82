// SparkKeys lists the configuration keys a released Spark distribution defines, one per line,
// "prefix.*" for a key family, from the release's own jars (run by hack/sparkkeys/extract.sh):
//
//   java -cp "$SPARK_HOME/jars/*" hack/sparkkeys/SparkKeys.java
//
// It loads Spark's config objects in a JVM, as Spark itself does when a driver starts, and reads
// what they registered, so nothing depends on parsing Scala source:
//   - every ConfigEntry a config object creates registers itself by key in
//     ConfigEntry.knownConfigs (core/src/main/scala/org/apache/spark/internal/config/ConfigEntry.scala),
//     with its withAlternative(...) keys;
//   - SparkConf's deprecatedConfigs and configsWithAlternatives (core/.../SparkConf.scala);
//   - String constants of the same objects and of Kubernetes' Constants and core's ResourceUtils
//     that are a key ("spark.connect.grpc.binding.port") or a key prefix ending in "."
//     ("spark.kubernetes.driver.label.", read with parsePrefixedKeyValuePairs).
//   - the client's auth keys, Config's KUBERNETES_AUTH_*_PREFIX joined with each *_CONF_SUFFIX,
//     as SparkKubernetesClientFactory and DriverKubernetesCredentialsFeatureStep join them.
// Keys Spark reads only as literals inside methods (spark.local.dir in Utils.getConfiguredLocalDirs,
// spark.app.id set by SparkContext) are listed in HAND with the class that reads them; one is
// kept only where that class of this release holds the literal.
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

public class SparkKeys {
  // The objects whose initialisation registers Spark's configuration; each is optional, since a
  // line may lack one (Connect's config is in 3.5's connect jar, not shipped in the distribution).
  static final List<String> CONFIG_OBJECTS = List.of(
      "org.apache.spark.deploy.k8s.Config$",
      "org.apache.spark.sql.internal.SQLConf$",
      "org.apache.spark.sql.internal.StaticSQLConf$",
      "org.apache.spark.sql.connect.config.Connect$");
  // Objects read for String constants only.
  static final List<String> CONSTANT_OBJECTS = List.of(
      "org.apache.spark.deploy.k8s.Config$",
      "org.apache.spark.deploy.k8s.Constants$",
      "org.apache.spark.resource.ResourceUtils$",
      "org.apache.spark.internal.config.package$");
  // HAND: key (or family), the class whose constant pool must hold a literal for the key to be
  // listed, and that literal when it is not the key itself (a family's is its prefix).
  static final String[][] HAND = {
      // Utils.getConfiguredLocalDirs; deploy/k8s/features/LocalDirsFeatureStep.scala reads it too
      {"spark.local.dir", "org.apache.spark.util.Utils$"},
      // SparkContext sets it from the scheduler backend's applicationId
      {"spark.app.id", "org.apache.spark.SparkContext"},
      {"spark.app.name", "org.apache.spark.SparkConf"},
      {"spark.master", "org.apache.spark.SparkConf"},
      // deploy/SparkSubmit.scala prepareSubmitEnvironment
      {"spark.app.submitTime", "org.apache.spark.deploy.SparkSubmit"},
      {"spark.kubernetes.setSubmitTimeInDriver", "org.apache.spark.deploy.SparkSubmit"},
      // SparkConf.setExecutorEnv
      {"spark.executorEnv.*", "org.apache.spark.SparkConf"},
      // ResourceUtils.RESOURCE_PREFIX under spark.driver, spark.executor and spark.task
      {"spark.driver.resource.*", "org.apache.spark.resource.ResourceUtils$", "resource"},
      {"spark.executor.resource.*", "org.apache.spark.resource.ResourceUtils$", "resource"},
      {"spark.task.resource.*", "org.apache.spark.resource.ResourceUtils$", "resource"},
  };
  // Constants shaped like a key that are not one.
  static final List<String> NOT_KEYS = List.of(
      "spark.properties", // Constants.SPARK_CONF_FILE_NAME, the driver's properties file
      "spark.exit-exception"); // Constants.EXIT_EXCEPTION_ANNOTATION (4.1), a pod annotation
  static final Pattern KEY = Pattern.compile("spark\\.[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*");
  static final Pattern PREFIX = Pattern.compile("spark\\.[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*\\.");

  public static void main(String[] args) throws Exception {
    TreeSet<String> keys = new TreeSet<>();
    ClassLoader cl = SparkKeys.class.getClassLoader();
    for (String name : configObjectsOf(System.getProperty("java.class.path"))) {
      init(cl, name);
    }
    for (String name : CONFIG_OBJECTS) {
      init(cl, name);
    }
    Object companion = module(cl, "org.apache.spark.internal.config.ConfigEntry$");
    Map<?, ?> known = (Map<?, ?>) companion.getClass().getMethod("knownConfigs").invoke(companion);
    for (Map.Entry<?, ?> e : known.entrySet()) {
      keys.add((String) e.getKey());
      for (Object alt : scalaSeq(call(e.getValue(), "alternatives"))) {
        keys.add((String) alt);
      }
    }
    Object sparkConf = module(cl, "org.apache.spark.SparkConf$");
    for (Field field : sparkConf.getClass().getDeclaredFields()) {
      String f = field.getName();
      boolean alternatives = f.endsWith("configsWithAlternatives");
      if (!alternatives && !f.endsWith("deprecatedConfigs")) {
        continue;
      }
      field.setAccessible(true);
      Object map = field.get(sparkConf);
      for (Object k : scalaIter(call(map, "keysIterator"))) {
        keys.add((String) k);
      }
      if (alternatives) {
        for (Object alts : scalaIter(call(map, "valuesIterator"))) {
          for (Object alt : scalaSeq(alts)) {
            keys.add((String) call(alt, "key"));
          }
        }
      }
    }
    TreeSet<String> constants = new TreeSet<>();
    List<String> authPrefixes = new ArrayList<>();
    List<String> authSuffixes = new ArrayList<>();
    for (String name : CONSTANT_OBJECTS) {
      Object m = module(cl, name);
      if (m == null) {
        continue;
      }
      for (Method meth : m.getClass().getMethods()) {
        if (meth.getParameterCount() != 0 || meth.getReturnType() != String.class || Modifier.isStatic(meth.getModifiers())) {
          continue;
        }
        String v = (String) meth.invoke(m);
        if (v == null) {
          continue;
        }
        String constant = meth.getName();
        if (constant.startsWith("KUBERNETES_AUTH_") && constant.endsWith("PREFIX")) {
          authPrefixes.add(v);
        } else if (constant.endsWith("_CONF_SUFFIX")) {
          authSuffixes.add(v);
        }
        if (PREFIX.matcher(v).matches()) {
          keys.add(v + "*");
        } else if (KEY.matcher(v).matches() && !NOT_KEYS.contains(v)) {
          constants.add(v);
        }
      }
    }
    for (String p : authPrefixes) {
      for (String suffix : authSuffixes) {
        keys.add(p + "." + suffix);
      }
    }
    // A constant that another key extends ("spark.kubernetes.authenticate", "spark.driver") is a
    // prefix Spark interpolates, not a key.
    for (String c : constants) {
      String longer = keys.ceiling(c + ".");
      if (longer == null || !longer.startsWith(c + ".")) {
        keys.add(c);
      }
    }
    for (String[] h : HAND) {
      String literal = h.length > 2 ? h[2] : h[0].replaceFirst("\\.\\*$", ".");
      if (holdsLiteral(cl, h[1], literal)) {
        keys.add(h[0]);
      } else {
        System.err.println("SparkKeys: " + h[1] + " does not hold \"" + literal + "\": " + h[0] + " not listed");
      }
    }
    Object pkg = module(cl, "org.apache.spark.package$");
    System.out.println("# Spark " + pkg.getClass().getMethod("SPARK_VERSION").invoke(pkg) + " configuration keys (one per line; \"prefix.*\" = key prefix family).");
    System.out.println("# Generated by hack/sparkkeys/extract.sh from the release's jars (see hack/sparkkeys/SparkKeys.java); do not edit.");
    for (String k : keys) {
      System.out.println(k);
    }
  }

  // configObjectsOf names core's config objects (org.apache.spark.internal.config.X$) in the
  // spark-core jar of the class path.
  static List<String> configObjectsOf(String classPath) throws Exception {
    List<String> out = new ArrayList<>();
    for (String entry : classPath.split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry);
      List<Path> jars = new ArrayList<>();
      if (entry.endsWith("*")) {
        try (var s = Files.list(p.getParent())) {
          s.filter(j -> j.getFileName().toString().startsWith("spark-core_")).forEach(jars::add);
        }
      } else if (p.getFileName().toString().startsWith("spark-core_")) {
        jars.add(p);
      }
      for (Path jar : jars) {
        try (ZipFile z = new ZipFile(jar.toFile())) {
          z.stream().map(e -> e.getName())
              .filter(n -> n.matches("org/apache/spark/internal/config/[A-Za-z0-9]+\\$\\.class"))
              .forEach(n -> out.add(n.replace('/', '.').replaceAll("\\.class$", "")));
        }
      }
    }
    return out;
  }

  // holdsLiteral says whether class name's constant pool has a UTF-8 entry equal to literal (a
  // CONSTANT_Utf8 is a tag 1, a two-byte length and the bytes).
  static boolean holdsLiteral(ClassLoader cl, String name, String literal) throws Exception {
    try (var in = cl.getResourceAsStream(name.replace('.', '/') + ".class")) {
      if (in == null) {
        return false;
      }
      byte[] b = in.readAllBytes();
      byte[] want = literal.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      outer:
      for (int i = 0; i + 3 + want.length <= b.length; i++) {
        if (b[i] != 1 || (((b[i + 1] & 0xff) << 8) | (b[i + 2] & 0xff)) != want.length) {
          continue;
        }
        for (int j = 0; j < want.length; j++) {
          if (b[i + 3 + j] != want[j]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }
  }

  static void init(ClassLoader cl, String name) {
    try {
      Class.forName(name, true, cl);
    } catch (ClassNotFoundException e) {
      // Not in this line.
    } catch (Throwable e) {
      throw new RuntimeException("initialising " + name, e);
    }
  }

  static Object module(ClassLoader cl, String name) throws Exception {
    try {
      return Class.forName(name, true, cl).getField("MODULE$").get(null);
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  static List<Object> scalaSeq(Object seq) throws Exception {
    return scalaIter(call(seq, "iterator"));
  }

  static List<Object> scalaIter(Object it) throws Exception {
    List<Object> out = new ArrayList<>();
    while ((Boolean) call(it, "hasNext")) {
      out.add(call(it, "next"));
    }
    return out;
  }

  // call invokes a public no-argument method through the public type that declares it: Scala's
  // collections are instances of classes this program may not access directly.
  static Object call(Object o, String name) throws Exception {
    Method m = o.getClass().getMethod(name);
    m.setAccessible(true);
    return m.invoke(o);
  }
}
