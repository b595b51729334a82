// A batch Spark application for the sandbox, built by the e2e tests with javac against the
// distribution's jars: estimates pi from random points in parallel tasks, and names the
// executor pods its tasks ran in (Spark sets SPARK_EXECUTOR_POD_NAME in every executor pod).
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

public final class SparkhaPi {
  public static void main(String[] args) {
    int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    SparkSession spark = SparkSession.builder().appName("sparkha-pi").getOrCreate();
    JavaSparkContext sc = new JavaSparkContext(spark.sparkContext());
    List<Integer> seeds = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      seeds.add(i);
    }
    final int perTask = 200000;
    JavaRDD<Integer> parts = sc.parallelize(seeds, tasks);
    long inside = parts.map(seed -> {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      long in = 0;
      for (int i = 0; i < perTask; i++) {
        double x = r.nextDouble() * 2 - 1, y = r.nextDouble() * 2 - 1;
        if (x * x + y * y <= 1) {
          in++;
        }
      }
      return in;
    }).reduce(Long::sum);
    List<String> pods = parts.map(seed -> String.valueOf(System.getenv("SPARK_EXECUTOR_POD_NAME"))).distinct().collect();
    System.out.printf("sparkha-pi: pi is about %.3f after %d tasks%n", 4.0 * inside / ((long) perTask * tasks), tasks);
    System.out.println("sparkha-pi: tasks ran in executor pods " + pods);
    spark.stop();
  }
}
