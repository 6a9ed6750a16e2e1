-- Requests per HTTP status over 5-minute tumbling windows.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    status        INTEGER,
    request_count BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM "response", COUNT(*) AS request_count
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY "response",
             STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '5' MINUTE);
