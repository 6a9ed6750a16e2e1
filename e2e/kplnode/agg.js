// Cross-checks Eddy's KPL aggregation with the aws-kinesis-agg npm module.
//   node agg.js deagg  < kinesis records  (JSON lines {data(base64), partitionKey, sequenceNumber})
//                      > user records     (JSON lines {partitionKey, explicitPartitionKey, sequenceNumber, subSequenceNumber, data(base64)})
//   node agg.js agg    < user records     (JSON lines {partitionKey, explicitHashKey?, data(base64)})
//                      > kinesis records  (JSON lines {partitionKey, explicitHashKey, data(base64)})
'use strict';
const agg = require('aws-kinesis-agg');
const readline = require('readline');

const mode = process.argv[2];
const lines = [];
readline.createInterface({ input: process.stdin }).on('line', (l) => { if (l.trim()) lines.push(JSON.parse(l)); }).on('close', () => {
  if (mode === 'deagg') {
    for (const rec of lines) {
      agg.deaggregateSync(rec, true, (err, users) => {
        if (err) { console.error('deaggregate:', err); process.exit(1); }
        for (const u of users) {
          process.stdout.write(JSON.stringify({
            partitionKey: u.partitionKey, explicitPartitionKey: u.explicitPartitionKey,
            sequenceNumber: String(u.sequenceNumber), subSequenceNumber: u.subSequenceNumber,
            data: Buffer.from(u.data, 'base64').toString('base64'),
          }) + '\n');
        }
      });
    }
  } else if (mode === 'agg') {
    const recs = lines.map((l) => ({ partitionKey: l.partitionKey, explicitHashKey: l.explicitHashKey, data: Buffer.from(l.data, 'base64') }));
    agg.aggregate(recs, (enc, cb) => {
      process.stdout.write(JSON.stringify({ partitionKey: enc.partitionKey, explicitHashKey: enc.explicitHashKey, data: Buffer.from(enc.data).toString('base64') }) + '\n');
      cb();
    }, () => {}, (err) => { console.error('aggregate:', err); process.exit(1); });
  } else {
    console.error('usage: node agg.js deagg|agg');
    process.exit(2);
  }
});
