package video

// Fragment numbers: AWS's are ~47-digit decimals that only ever increase.
// Eddy's are a fixed 26-digit prefix and the stream's 21-digit fragment
// sequence, so they sort as numbers and as strings.

import (
	"fmt"
	"strconv"
	"strings"
)

const fragPrefix = "91343852333181432392682062"

func fragNumber(seq uint64) string { return fmt.Sprintf("%s%021d", fragPrefix, seq) }

func parseFragNumber(s string) (uint64, bool) {
	if len(s) != len(fragPrefix)+21 || !strings.HasPrefix(s, fragPrefix) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[len(fragPrefix):], 10, 64)
	return v, err == nil
}
