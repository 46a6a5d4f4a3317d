package dev.fernetjca.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler that reports CPU time per operation: {@code cpu.process.norm} (every thread of the fork: the
 * benchmark, the garbage collector, the compiler) and {@code cpu.worker.norm} (the benchmark threads alone), in
 * nanoseconds. On a machine shared with other work, throughput measures how much of the CPU the benchmark got;
 * CPU time per operation measures what the operation costs, and moves far less with the load.
 *
 * <pre>{@code java -jar benchmarks.jar -prof dev.fernetjca.benchmarks.CpuTimeProfiler ...}</pre>
 *
 * <p>JMH makes one per fork and calls it from one thread.
 */
public final class CpuTimeProfiler implements InternalProfiler {
    private final OperatingSystemMXBean os = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class);
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long processStart;
    private long workersStart;

    @Override
    public String getDescription() {
        return "CPU time per operation: the whole fork's, and the benchmark threads' alone";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        workersStart = workerCpuNanos();
        processStart = os.getProcessCpuTime();
    }

    @Override
    public List<ScalarResult> afterIteration(
            BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
        long process = os.getProcessCpuTime() - processStart;
        long workers = workerCpuNanos() - workersStart;
        long ops = result.getMetadata().getAllOps();
        if (ops <= 0) {
            return List.of();
        }
        return List.of(
                new ScalarResult("cpu.process.norm", (double) process / ops, "ns/op", AggregationPolicy.AVG),
                new ScalarResult("cpu.worker.norm", (double) workers / ops, "ns/op", AggregationPolicy.AVG));
    }

    // JMH names its benchmark threads "<benchmark>-jmh-worker-<n>" and keeps them across the iterations of a trial
    private long workerCpuNanos() {
        long total = 0;
        for (long id : threads.getAllThreadIds()) {
            ThreadInfo info = threads.getThreadInfo(id);
            if (info != null && info.getThreadName().contains("jmh-worker")) {
                long nanos = threads.getThreadCpuTime(id);
                if (nanos > 0) {
                    total += nanos;
                }
            }
        }
        return total;
    }
}
