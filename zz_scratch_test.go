package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

func TestScratchFail(t *testing.T) {
	for _, bin := range []string{"/nonexistent", "/tmp/ignore-term.sh"} {
		p, _ := parseLoadFlags([]string{"-duration", "1s"}, io.Discard)
		p.console = bin
		var out bytes.Buffer
		start := time.Now()
		err := p.run(context.Background(), &out)
		t.Logf("%s after %s: %v | %q", bin, time.Since(start), err, out.String())
	}
}
