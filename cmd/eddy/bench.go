package main

import "github.com/eddy-streams/eddy/internal/bench"

func init() {
	register("bench", "drive a Kinesis endpoint and report throughput and latency", bench.Main)
}
