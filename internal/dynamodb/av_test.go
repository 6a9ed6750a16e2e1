package dynamodb

import "testing"

func TestNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "01.500": "1.5", "-0": "0", "1E+2": "100", "1.5e3": "1500", "-1.25E-3": "-0.00125",
		"99999999999999999999999999999999999999": "99999999999999999999999999999999999999",
		"1E-130":                                 "0." + zeros(129) + "1", "9.9E125": "99" + zeros(124),
	} {
		got, err := normNumber(in)
		if err != nil || got != want {
			t.Fatalf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"1E126":    "Number overflow",
		"1E-131":   "Number underflow",
		"1.2.3":    "cannot be converted",
		"NaN":      "cannot be converted",
		"Infinity": "cannot be converted",
		"123456789012345678901234567890123456789": "more than 38 significant digits",
	} {
		if _, err := normNumber(in); err == nil || !contains(err.Error(), msg) {
			t.Fatalf("%s: %v, want %q", in, err, msg)
		}
	}
	if cmpNum("10", "9") <= 0 || cmpNum("-1", "-0.5") >= 0 || cmpNum("1.0", "1") != 0 {
		t.Fatal("numeric comparison")
	}
	if _, err := addNum("0.1", "1"+zeros(38), false); err == nil || !contains(err.Error(), "more than 38 significant digits") {
		t.Fatalf("sum past 38 digits: %v", err)
	}
	if s, err := addNum("0.1", "0.2", false); err != nil || s != "0.3" {
		t.Fatalf("0.1+0.2 = %s %v", s, err)
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
