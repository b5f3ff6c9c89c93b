// Command blimpprof serves projects as `blimp run` does, in-process, and profiles the
// windows the load generator marks: SIGUSR1 starts a CPU profile, SIGUSR2 stops it
// (and, with -memprofile, writes a heap profile after a GC and logs the goroutine
// count and heap and stack in use). It exists so the connection layer can be profiled under bench/load's loads
// without adding profiling endpoints to the product; bench/run uses it when
// PROFILE=1, and `load echo|fanout|idle -profile-signals -pid PID` sends the signals.
//
//	go build -o /tmp/blimpprof ./bench/blimpprof
//	/tmp/blimpprof -cpuprofile /tmp/echo.pprof --projects bench/projects --addr 127.0.0.1:8080 --data /tmp/b.db --no-watch
//	go tool pprof -top /tmp/blimpprof /tmp/echo.pprof
//
// The second and later windows (and heap profiles) are written to FILE-2, FILE-3, ...
// beside FILE; `load idle -profile-signals` asks for a heap profile before and after
// opening its connections, so
//
//	go tool pprof -sample_index=inuse_space -diff_base heap.pprof heap-2.pprof
//
// shows what the idle connections hold.
// SIGINT or SIGTERM shut the server down as blimp does.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/server"
)

func main() {
	var (
		cpuProfile = flag.String("cpuprofile", "", "write CPU profiles of the SIGUSR1..SIGUSR2 windows here")
		memProfile = flag.String("memprofile", "", "write a heap profile here at every SIGUSR2")
		cfgFile    = flag.String("config", "", "config file (TOML) overlaid on the embedded defaults")
		addr       = flag.String("addr", "", "listen address, overrides server.addr")
		projects   = flag.String("projects", "", "projects root, overrides projects.root")
		data       = flag.String("data", "", "store file, overrides data.path")
		noWatch    = flag.Bool("no-watch", false, "do not reload projects when their files change")
	)
	flag.Parse()
	if *memProfile != "" {
		// Record every allocation, so a heap profile accounts for each connection's
		// bytes exactly rather than by sampling.
		runtime.MemProfileRate = 1
	}
	if err := run(*cpuProfile, *memProfile, *cfgFile, *addr, *projects, *data, *noWatch); err != nil {
		fmt.Fprintln(os.Stderr, "blimpprof:", err)
		os.Exit(1)
	}
}

func run(cpuProfile, memProfile, cfgFile, addr, projects, data string, noWatch bool) error {
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return err
	}
	if addr != "" {
		cfg.Server.Addr = addr
	}
	if projects != "" {
		cfg.Projects.Root = projects
	}
	if data != "" {
		cfg.Data.Path = data
	}
	if noWatch {
		cfg.Projects.Watch = false
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	if err := s.Load(); err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return err
	}
	log.Info("blimpprof serving", "addr", l.Addr().String(), "projects", cfg.Projects.Root)

	p := &profiler{cpuFile: cpuProfile, memFile: memProfile, log: log}
	marks := make(chan os.Signal, 4)
	signal.Notify(marks, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for sig := range marks {
			if sig == syscall.SIGUSR1 {
				p.start()
			} else {
				p.stopCPU()
				p.writeHeap()
			}
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()
	err = s.Serve(ctx, l)
	p.stopCPU()
	return err
}

// profiler writes the CPU profile of each marked window and the heap profiles. It is
// safe for concurrent use.
type profiler struct {
	cpuFile, memFile string
	log              *slog.Logger

	mu             sync.Mutex // guards windows, heaps and out
	windows, heaps int
	out            *os.File // the CPU profile being written, if any
}

// name returns the file of the n-th window: FILE, then FILE-2, FILE-3, ...
func name(file string, n int) string {
	if n <= 1 {
		return file
	}
	ext := filepath.Ext(file)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(file, ext), n, ext)
}

func (p *profiler) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cpuFile == "" || p.out != nil {
		return
	}
	p.windows++
	f, err := os.Create(name(p.cpuFile, p.windows))
	if err != nil {
		p.log.Error("cpu profile", "error", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		p.log.Error("cpu profile", "error", err)
		return
	}
	p.out = f
	p.log.Info("cpu profile started", "file", f.Name())
}

func (p *profiler) stopCPU() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out != nil {
		pprof.StopCPUProfile()
		p.out.Close()
		p.log.Info("cpu profile written", "file", p.out.Name())
		p.out = nil
	}
}

// writeHeap writes a heap profile after a GC, if asked to.
func (p *profiler) writeHeap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.memFile != "" {
		runtime.GC()
		p.heaps++
		f, err := os.Create(name(p.memFile, p.heaps))
		if err != nil {
			p.log.Error("heap profile", "error", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			p.log.Error("heap profile", "error", err)
			return
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.log.Info("heap profile written", "file", f.Name(), "goroutines", runtime.NumGoroutine(), "heap_inuse", ms.HeapInuse, "heap_alloc", ms.HeapAlloc, "stack_inuse", ms.StackInuse, "sys", ms.Sys)
	}
}
