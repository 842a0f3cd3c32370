/* JavaBench.java - the Java producer (DefaultMQProducer of $ROCKETMQ_HOME/lib)
 * on one line of make bench-real, measured as bench_real.c measures ours.
 *
 *     java -cp CLASSES:$ROCKETMQ_HOME/lib/* JavaBench NAMESRV TOPIC LINE SECONDS BROKER_PID CLK_TCK
 *
 * LINE: sync (128 B), async (128 B, 1,000 in flight), batch (16 x 128 B,
 * sync). Warms up for a second on the same line (the JIT, the route, the
 * connection), then measures for SECONDS. Prints one line:
 *
 *     BENCH_REAL client=java line=async msgs=N wall_ns=.. cpu_ns=.. broker_cpu_ns=.. p50_ns=.. p99_ns=.. rss_kb=.. failed=..
 *
 * cpu_ns is the user + system time of this whole process (every thread: the
 * client's, the JIT's, the collector's) over the measured interval; rss_kb
 * its peak resident set (VmHWM); latencies are per call (sync, batch) or
 * from the call to the callback (async), from a log-linear histogram with
 * the same buckets as the C side's. */
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

public final class JavaBench {
    static final int WINDOW = 1000;
    static final int BATCH = 16;
    static final long WARMUP_NS = 1_000_000_000L;

    /* Log-linear buckets, 32 per power of two (3% wide): as bench_real.c. */
    static final class Hist {
        final AtomicLongArray n = new AtomicLongArray(2048);
        final AtomicLong total = new AtomicLong();

        static int index(long v) {
            if (v < 64) return (int) Math.max(v, 0);
            int m = 63 - Long.numberOfLeadingZeros(v);
            return (m - 5) * 32 + (int) (v >>> (m - 5));
        }

        static long lower(int i) {
            if (i < 64) return i;
            int m = i / 32 + 4;
            return (long) (i - (m - 5) * 32) << (m - 5);
        }

        void add(long v) {
            int i = index(v);
            n.incrementAndGet(i < 2048 ? i : 2047);
            total.incrementAndGet();
        }

        long pct(int p) {
            long want = (total.get() - 1) * p / 100 + 1, seen = 0;
            for (int i = 0; i < 2048; i++) {
                seen += n.get(i);
                if (seen >= want) return lower(i);
            }
            return 0;
        }
    }

    static long procCpuNs(String pid, long hz) {
        try {
            String s = new String(Files.readAllBytes(Paths.get("/proc/" + pid + "/stat")));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * (1_000_000_000L / hz);
        } catch (Exception e) {
            return 0;
        }
    }

    static long peakRssKb() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/self/status")))
                if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        } catch (Exception e) {
            return 0;
        }
        return 0;
    }

    final DefaultMQProducer producer;
    final String topic;
    final byte[] body = new byte[128];
    final Hist hist = new Hist();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong ok = new AtomicLong();

    JavaBench(DefaultMQProducer producer, String topic) {
        this.producer = producer;
        this.topic = topic;
        java.util.Arrays.fill(body, (byte) 'b');
    }

    Message message() {
        return new Message(topic, "bench", body);
    }

    long sync(long end, boolean record) throws Exception {
        long msgs = 0;
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            SendResult r = producer.send(message());
            if (record) hist.add(System.nanoTime() - t0);
            if (r.getSendStatus() != SendStatus.SEND_OK) failed.incrementAndGet();
            msgs++;
        }
        return msgs;
    }

    long batch(long end, boolean record) throws Exception {
        long msgs = 0;
        while (System.nanoTime() < end) {
            List<Message> list = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) list.add(message());
            long t0 = System.nanoTime();
            SendResult r = producer.send(list);
            if (record) hist.add(System.nanoTime() - t0);
            if (r.getSendStatus() != SendStatus.SEND_OK) failed.incrementAndGet();
            msgs += BATCH;
        }
        return msgs;
    }

    long async(long end, boolean record) throws Exception {
        final Semaphore window = new Semaphore(WINDOW);
        long before = ok.get();
        while (System.nanoTime() < end) {
            window.acquire();
            final long t0 = System.nanoTime();
            producer.send(message(), new SendCallback() {
                @Override public void onSuccess(SendResult r) {
                    if (record) hist.add(System.nanoTime() - t0);
                    ok.incrementAndGet();
                    window.release();
                }
                @Override public void onException(Throwable e) {
                    failed.incrementAndGet();
                    window.release();
                }
            });
        }
        window.acquire(WINDOW);
        return ok.get() - before;
    }

    long run(String line, long end, boolean record) throws Exception {
        switch (line) {
        case "sync": return sync(end, record);
        case "async": return async(end, record);
        case "batch": return batch(end, record);
        default: throw new IllegalArgumentException("line: sync, async or batch");
        }
    }

    public static void main(String[] a) throws Exception {
        String namesrv = a[0], topic = a[1], line = a[2], brokerPid = a[4];
        long seconds = Long.parseLong(a[3]), hz = Long.parseLong(a[5]);
        DefaultMQProducer producer = new DefaultMQProducer("bench_real_java");
        producer.setNamesrvAddr(namesrv);
        producer.setInstanceName("bench_real_java_" + ProcessHandle.current().pid());
        producer.start();
        JavaBench b = new JavaBench(producer, topic);
        b.run(line, System.nanoTime() + WARMUP_NS, false);
        b.failed.set(0);
        long cpu0 = ProcessHandle.current().info().totalCpuDuration().get().toNanos();
        long broker0 = procCpuNs(brokerPid, hz);
        long t0 = System.nanoTime();
        long msgs = b.run(line, t0 + seconds * 1_000_000_000L, true);
        long wall = System.nanoTime() - t0;
        long broker = procCpuNs(brokerPid, hz) - broker0;
        long cpu = ProcessHandle.current().info().totalCpuDuration().get().toNanos() - cpu0;
        System.out.println("BENCH_REAL client=java line=" + line + " msgs=" + msgs + " wall_ns=" + wall
                + " cpu_ns=" + cpu + " broker_cpu_ns=" + (brokerPid.equals("0") ? 0 : broker)
                + " p50_ns=" + b.hist.pct(50) + " p99_ns=" + b.hist.pct(99) + " rss_kb=" + peakRssKb()
                + " failed=" + b.failed.get());
        producer.shutdown();
        System.exit(0);
    }
}
