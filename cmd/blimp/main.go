// Command blimp is the blimp WebSocket scripting server.
//
//	blimp run     serve every project under the projects root
//	blimp check   validate projects (descriptors, handlers, compilation) and exit
//	blimp version print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/server"
)

const usage = `blimp is a WebSocket scripting server.

Usage:
  blimp run [flags]               serve every project under the projects root
  blimp check [flags] [root ...]  validate every project of each projects root
                                  (default: the configured root); exit 1 on errors
  blimp version                   print the version

Flags of run and check:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		fs := commandFlags("run", new(options))
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return 2
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "blimp", version())
		return 0
	case "run":
		return runServer(args[1:], stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "blimp: unknown command %q (want run, check or version)\n", args[0])
		return 2
	}
}

// options are the flags shared by run and check.
type options struct {
	config   string
	addr     string
	projects string
	data     string
	noWatch  bool
	https    bool
}

func commandFlags(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.config, "config", "", "config file (TOML) overlaid on the embedded defaults")
	fs.StringVar(&o.addr, "addr", "", "listen address, overrides server.addr")
	fs.StringVar(&o.projects, "projects", "", "projects root, overrides projects.root")
	fs.StringVar(&o.data, "data", "", "store file, overrides data.path")
	if name == "run" {
		fs.BoolVar(&o.noWatch, "no-watch", false, "do not reload projects when their files change (projects.watch = false)")
		fs.BoolVar(&o.https, "https", false, "serve HTTPS/wss (tls.enabled = true); self-signed for localhost unless tls.cert and tls.key are set")
	}
	return fs
}

// load parses the flags and returns the configuration they select.
func load(name string, args []string, stderr io.Writer) (config.Config, *flag.FlagSet, error) {
	var o options
	fs := commandFlags(name, &o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return cfg, nil, err
	}
	for _, f := range []struct {
		flag string
		dst  *string
	}{{o.addr, &cfg.Server.Addr}, {o.projects, &cfg.Projects.Root}, {o.data, &cfg.Data.Path}} {
		if f.flag != "" {
			*f.dst = f.flag
		}
	}
	if o.noWatch {
		cfg.Projects.Watch = false
	}
	if o.https {
		cfg.TLS.Enabled = true
	}
	return cfg, fs, cfg.Validate()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServer(args []string, stderr io.Writer) int {
	cfg, fs, err := load("run", args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "blimp:", err)
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "blimp run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := newLogger(cfg, stderr)
	s, err := server.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	if err := s.Load(); err != nil {
		log.Error("some projects are not served; fix the files named above (with watching on they reload as soon as they are saved; with --no-watch, restart or POST /admin/reload)", "error", err)
	}
	l, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Server.Addr, "error", err)
		return 1
	}
	log.Info("blimp serving", "addr", l.Addr().String(), "tls", cfg.TLS.Enabled, "projects", cfg.Projects.Root, "version", version())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal now kills the process
	}()
	if err := s.Serve(ctx, l); err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	log.Info("blimp stopped")
	return 0
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	cfg, fs, err := load("check", args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "blimp:", err)
		}
		return 2
	}
	roots := fs.Args()
	if len(roots) == 0 {
		roots = []string{cfg.Projects.Root}
	}
	failed := false
	for _, root := range roots {
		res := server.Check(cfg, root)
		for _, w := range res.Warnings {
			printProblem(stdout, "warning:", w)
		}
		for _, e := range res.Errors {
			printProblem(stdout, "error:", e.Error())
		}
		fmt.Fprintf(stdout, "%s: %s, %s, %s, %s\n", root, count(res.Projects, "project"), count(res.Endpoints, "endpoint"),
			count(len(res.Errors), "error"), count(len(res.Warnings), "warning"))
		failed = failed || len(res.Errors) > 0
	}
	if failed {
		return 1
	}
	return 0
}

// printProblem prints one problem, which starts with its file. Check reports each
// problem on its own; should a message still span lines, the rest are indented so
// that every line starting in column 1 is a problem of its own.
func printProblem(w io.Writer, kind, msg string) {
	fmt.Fprintln(w, kind, strings.ReplaceAll(msg, "\n", "\n\t"))
}

// count writes n and the noun, plural unless n is 1: "1 error", "2 errors".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
