package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"lightcc-dashboard/lightcc/sim"
)

// runSimulator serves the LightCC simulator alone, for trying the console
// against a separate upstream (LIGHTCC_BASE_URL + LIGHTCC_API_KEY).
func runSimulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	empty := fs.Bool("empty", false, "start with no applications")
	tz := fs.String("tz", "Asia/Shanghai", "the platform's time zone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return fmt.Errorf("simulate: time zone %q: %w", *tz, err)
	}
	url, stop, err := startSimulator(ctx, *addr, sim.Options{Location: loc, Empty: *empty})
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stdout, "LightCC simulator on %s\nAPI key: %s\nTry: LIGHTCC_BASE_URL=%s LIGHTCC_API_KEY=%s make run\n", url, sim.DemoKey, url, sim.DemoKey)
	<-ctx.Done()
	return nil
}
