// A stateless Structured Streaming application for the sandbox whose only writer of its volume is
// its driver: what a checkpoint on a ReadWriteOnce or ReadWriteOncePod claim, which only the
// driver mounts, can serve. The rate source (5 rows a second, values 0, 1, 2, ... with no gap)
// runs in the executors; each micro-batch's first and last value and row count come back to the
// driver (foreachBatch), which writes them to ARG0/batches/BATCH.json, through a rename, so a
// batch run again after a failure rewrites the same file. The checkpoint is ARG0/query (default
// ARG0 /checkpoint).
//
// The batches' value ranges tile 0..N with no gap (no row lost) and no overlap (no row counted
// twice), as SparkhaStream's windows do; truth.ReadBatches reads them.
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

public final class SparkhaDriverSink {
  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "/checkpoint";
    // A String, not a Path, in the function: Spark may serialize it, and a Path is not Serializable.
    String batchDir = Paths.get(base, "batches").toString();
    Files.createDirectories(Paths.get(batchDir));
    SparkSession spark = SparkSession.builder().appName("sparkha-driver-sink").getOrCreate();
    Dataset<Row> rate = spark.readStream().format("rate").option("rowsPerSecond", "5").option("numPartitions", "1").load();
    StreamingQuery query = rate.writeStream()
        .option("checkpointLocation", base + "/query")
        .trigger(Trigger.ProcessingTime("1 second"))
        .foreachBatch(new VoidFunction2<Dataset<Row>, Long>() {
          @Override
          public void call(Dataset<Row> batch, Long id) throws Exception {
            Row r = batch.agg(count("*"), min("value"), max("value")).first();
            if (r.getLong(0) == 0) {
              return;
            }
            String json = String.format("{\"start\":%d,\"rows\":%d,\"first\":%d,\"last\":%d}%n", id, r.getLong(0), r.getLong(1), r.getLong(2));
            Path batches = Paths.get(batchDir);
            Path tmp = batches.resolve("." + id + ".json.tmp");
            Files.write(tmp, json.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, batches.resolve(id + ".json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          }
        })
        .start();
    query.awaitTermination();
  }
}
