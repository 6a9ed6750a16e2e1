package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestClusterGlueCatalog: on a 3-node cluster (separate processes), a Glue
// database and table created with the AWS CLI through node 0 are read
// through nodes 1 and 2; an UpdateTable on VersionId 0 through node 2
// wins, and the same VersionId through node 1 then answers
// ConcurrentModificationException; node 0 reads the winner's definition.
func TestClusterGlueCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster")
	}
	nodes := startCluster3(t)
	ep := func(i int) string { return "--endpoint-url=http://" + nodes[i].addr }
	run(t, "", "aws", ep(0), "glue", "create-database", "--database-input", `{"Name":"lake"}`)
	run(t, "", "aws", ep(0), "glue", "create-table", "--database-name", "lake", "--table-input",
		`{"Name":"events","StorageDescriptor":{"Columns":[{"Name":"id","Type":"int"}]}}`)
	for _, i := range []int{1, 2} {
		waitUntil(t, 10*time.Second, func() bool {
			return strings.Contains(run(t, "", "aws", ep(i), "glue", "get-tables", "--database-name", "lake"), `"Name": "events"`)
		}, "another node to read the table")
	}
	run(t, "", "aws", ep(2), "glue", "update-table", "--database-name", "lake", "--version-id", "0",
		"--table-input", `{"Name":"events","Description":"by node 2"}`)
	msg := runFail(t, "aws", ep(1), "glue", "update-table", "--database-name", "lake", "--version-id", "0",
		"--table-input", `{"Name":"events","Description":"by node 1"}`)
	if !strings.Contains(msg, "ConcurrentModificationException") || !strings.Contains(msg, "Table events version 0 is not the current version.") {
		t.Fatalf("stale update-table through node 1: %s", msg)
	}
	waitUntil(t, 10*time.Second, func() bool {
		out := run(t, "", "aws", ep(0), "glue", "get-table", "--database-name", "lake", "--name", "events")
		return strings.Contains(out, `"Description": "by node 2"`) && strings.Contains(out, `"VersionId": "1"`)
	}, "node 0 to read the winner's definition")
}
