package benchmarks

import (
	"syscall"
	"testing"
	"time"
)

// On a machine shared with other work, the wall time of a benchmark
// measures the load as much as the code. The process's CPU time (user and
// system, every thread, the garbage collector's included) moves far less
// with the load: withCPUTime reports it per operation as "cpu-ns/op",
// beside go test's ns/op, and cmd/ratios judges the goals on it when it is
// there.

// processCPU returns the CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// withCPUTime runs f, a benchmark body that loops with b.Loop, and reports
// its CPU time per operation.
func withCPUTime(b *testing.B, f func()) {
	start := processCPU()
	f()
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
