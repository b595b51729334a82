// A Structured Streaming application for the sandbox, built by the e2e tests with javac against
// the distribution's jars: the rate source (5 rows a second, values 0, 1, 2, ... with no gap), a
// stateful aggregation (rows per 2-second event-time window, with a watermark), and a file sink
// in append mode, each window written once when the watermark passes it. The checkpoint and the
// sink live on the app's volume, ARG0 (default /checkpoint): ARG0/query and ARG0/sink.
//
// Each output row carries its window's first and last value and its row count, so the sink alone
// proves what the checkpoint promises: the windows' value ranges tile 0..N with no gap (no row
// lost) and no overlap (no row counted twice), and rows == last - first + 1 in each.
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.window;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;

public final class SparkhaStream {
  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "/checkpoint";
    SparkSession spark = SparkSession.builder().appName("sparkha-stream").getOrCreate();
    Dataset<Row> rate = spark.readStream().format("rate").option("rowsPerSecond", "5").option("numPartitions", "1").load();
    Dataset<Row> windows = rate.withWatermark("timestamp", "2 seconds")
        .groupBy(window(col("timestamp"), "2 seconds"))
        .agg(count("*").as("rows"), min("value").as("first"), max("value").as("last"))
        .select(col("window.start").cast("long").as("start"), col("rows"), col("first"), col("last"));
    StreamingQuery query = windows.writeStream().format("json").outputMode("append")
        .option("checkpointLocation", base + "/query").option("path", base + "/sink")
        .trigger(Trigger.ProcessingTime("1 second")).start();
    query.awaitTermination();
  }
}
