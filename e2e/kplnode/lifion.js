// Runs a lifion-kinesis consumer (consumer group state in DynamoDB) against
// Eddy and prints each record's data on its own line until killed.
//   node lifion.js <endpoint> <stream> <group> [efo]
'use strict';
const Kinesis = require('lifion-kinesis');

const [, , endpoint, streamName, consumerGroup, mode] = process.argv;
const creds = { region: 'us-east-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const quiet = process.env.LIFION_DEBUG ? (...a) => console.error('debug', ...a) : () => {};
const kinesis = new Kinesis({
  ...creds,
  endpoint,
  streamName,
  consumerGroup,
  createStreamIfNeeded: false,
  initialPositionInStream: 'TRIM_HORIZON',
  dynamoDb: { ...creds, endpoint, tableName: `${consumerGroup}-state` },
  leaseAcquisitionInterval: 1000,
  leaseAcquisitionRecoveryInterval: 1000,
  noRecordsPollDelay: 100,
  pollDelay: 20,
  shouldParseJson: false,
  shouldDeaggregate: true, // the code's default is false, whatever its docs say
  useEnhancedFanOut: mode === 'efo',
  logger: { debug: quiet, warn: (...a) => console.error('warn', ...a), error: (...a) => console.error('error', ...a) },
});
kinesis.on('data', ({ records }) => {
  if (process.env.LIFION_DEBUG) console.error('data event', records.length, records[0] && typeof records[0].data, records[0] && String(records[0].data).slice(0, 40));
  let out = '';
  for (const r of records) {
    out += (Buffer.isBuffer(r.data) ? r.data.toString() : String(r.data)) + '\n';
  }
  process.stdout.write(out);
});
kinesis.on('error', (err) => console.error('error event', err));
kinesis.startConsumer().catch((err) => {
  console.error('startConsumer:', err);
  process.exit(1);
});
