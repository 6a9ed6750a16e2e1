// Subscribes to one shard with the Node SDK v3 (which speaks HTTP/2 to every
// Kinesis endpoint: h2c with prior knowledge over http://) and prints what
// it receives, one line each:
//
//   READY                      the SubscribeToShard response started
//   RECORD <data as utf-8>     a pushed record
//   END <error name or "ok">   the event stream ended
//
// Usage: node subscribe.mjs ENDPOINT CONSUMER_ARN SHARD_ID COUNT
// It exits 0 once COUNT records arrived, 1 on any error.
import { KinesisClient, SubscribeToShardCommand } from "@aws-sdk/client-kinesis";

const [endpoint, consumerARN, shardId, countArg] = process.argv.slice(2);
const want = Number(countArg);
if (!endpoint || !consumerARN || !shardId || !(want > 0)) {
  console.error("usage: node subscribe.mjs ENDPOINT CONSUMER_ARN SHARD_ID COUNT");
  process.exit(2);
}

const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  maxAttempts: 1,
});

const timer = setTimeout(() => {
  console.log("END timeout");
  process.exit(1);
}, 30000);

try {
  const out = await client.send(new SubscribeToShardCommand({
    ConsumerARN: consumerARN,
    ShardId: shardId,
    StartingPosition: { Type: "LATEST" },
  }));
  console.log("READY");
  let got = 0;
  for await (const ev of out.EventStream) {
    const e = ev.SubscribeToShardEvent;
    if (!e) continue;
    if (typeof e.ContinuationSequenceNumber !== "string") {
      throw new Error("event without ContinuationSequenceNumber on an open shard");
    }
    for (const r of e.Records) {
      console.log("RECORD " + Buffer.from(r.Data).toString("utf8"));
      got++;
    }
    if (got >= want) break;
  }
  console.log("END ok");
  clearTimeout(timer);
  client.destroy();
  process.exit(got >= want ? 0 : 1);
} catch (err) {
  console.log("END " + (err.name || "Error") + ": " + err.message);
  process.exit(1);
}
