package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDevnetFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"--http.port", "0", "--chain-id", "1337", "--block-time", "0.5", "--balance", "1.5"}, true},
		{[]string{"--http.port", "70000"}, false},
		{[]string{"--chain-id", "0"}, false},
		{[]string{"--accounts", "-1"}, false},
		{[]string{"--gas-limit", "100"}, false},
		{[]string{"--no-such-flag"}, false},
		{[]string{"extra"}, false},
	} {
		var stderr bytes.Buffer
		_, err := parseDevnetFlags(tc.args, &stderr)
		if (err == nil) != tc.ok {
			t.Errorf("%v: error %v", tc.args, err)
		}
	}
}

func TestDevnetHelpExitsZero(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"devnet", "-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), readyPrefix) {
		t.Fatalf("help does not document the ready line:\n%s", stderr.String())
	}
}

func TestBalanceWei(t *testing.T) {
	for in, want := range map[string]string{
		"10000": "10000000000000000000000",
		"1.5":   "1500000000000000000",
		"0":     "0",
		".25":   "250000000000000000",
	} {
		got, err := balanceWei(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1.0000000000000000001", "1e18"} {
		if _, err := balanceWei(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
