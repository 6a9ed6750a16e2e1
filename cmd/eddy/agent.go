package main

import "github.com/eddy-streams/eddy/internal/agent"

func init() {
	register("agent", "tail log files and ship them to Data Streams or Firehose (agent.json)", agent.Main)
}
