package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpExits0WithUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"up", "--help"}} {
		var buf bytes.Buffer
		helpOut = &buf
		if err := run(args); err != nil {
			t.Errorf("%q: %v, want nil (exit 0)", args, err)
		}
		for _, want := range []string{"usage: sandbox COMMAND", "partition NODE", "-dir string"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%q: usage lacks %q:\n%s", args, want, buf.String())
			}
		}
	}
	if err := run([]string{"--bogus"}); err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -bogus") {
		t.Errorf("--bogus: %v", err)
	}
}
