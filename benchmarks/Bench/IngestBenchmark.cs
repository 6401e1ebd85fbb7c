using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Events;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Testing;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>
/// <c>po bench ingest</c>: HTTP batch ingest into Kafka (librdkafka's mock cluster) against a bare Confluent.Kafka
/// producer sending the same records into the same broker, in the same run.
/// </summary>
public static class IngestBenchmark
{
    public static Command Create()
    {
        var events = new Option<int>("--events") { Description = "Events to send each way", DefaultValueFactory = _ => 300_000 };
        var batch = new Option<int>("--batch") { Description = "Events per HTTP request", DefaultValueFactory = _ => 1000 };
        var concurrency = new Option<int>("--concurrency") { Description = "HTTP requests in flight", DefaultValueFactory = _ => 16 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the topic", DefaultValueFactory = _ => 6 };
        var warmUp = new Option<int>("--warm-up") { Description = "Seconds of traffic before timing", DefaultValueFactory = _ => 5 };
        var command = new Command("ingest", "HTTP batch ingest into the Kafka mock vs a bare producer into the same mock.")
        {
            events, batch, concurrency, partitions, warmUp,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(events), parse.GetValue(batch), parse.GetValue(concurrency),
            parse.GetValue(partitions), parse.GetValue(warmUp), ct));
        return command;
    }

    private static async Task<int> RunAsync(int count, int batchSize, int concurrency, int partitions, int warmUpSeconds, CancellationToken cancellationToken)
    {
        if (count < batchSize || batchSize is < 1 or > EventRules.MaxEventsPerRequest || concurrency < 1 || partitions < 1)
        {
            throw new CliException($"need --events >= --batch, --batch 1..{EventRules.MaxEventsPerRequest}, --concurrency >= 1, --partitions >= 1");
        }

        KafkaNative.EnsureResolver();
        using var mock = new KafkaMockCluster(brokers: 1);
        const string httpTopic = "bench.http", bareTopic = "bench.bare";
        mock.CreateTopic(httpTopic, partitions);
        mock.CreateTopic(bareTopic, partitions);
        var data = Directory.CreateTempSubdirectory("po-bench-ingest-");
        try
        {
            Console.WriteLine($"machine: {BenchData.Machine()}");
            Console.WriteLine($"Kafka mock at {mock.BootstrapServers}, {partitions} partitions; {count:N0} events each way, {batchSize} per " +
                $"request, {concurrency} in flight");
            var configuration = CommonOptions.Configuration(data.FullName, null, new Dictionary<string, string?>
            {
                ["Kafka:BootstrapServers"] = mock.BootstrapServers,
                ["Kafka:Topic"] = httpTopic,
                ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            });
            await using var api = await LocalIngestApi.StartAsync(configuration, LogLevel.Warning, cancellationToken);
            var token = api.Services.GetRequiredService<TokenIssuer>().Issue("bench", "enterprise");
            var now = DateTimeOffset.UtcNow;
            var all = Enumerable.Range(0, count).Select(i => BenchData.Event(i, now)).ToArray();
            var bodies = all.Chunk(batchSize).Select(b => EventJson.SerializeBatch(b)).ToArray();

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = api.Address };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            // Warm up until the JIT has tiered up the hot path: a service runs for days, so steady state is what counts.
            var warmUp = Stopwatch.StartNew();
            var warmUpRequests = 0;
            while (warmUp.Elapsed < TimeSpan.FromSeconds(warmUpSeconds))
            {
                await SendAllAsync(http, bodies.Take(Math.Min(4 * concurrency, bodies.Length)).ToArray(), concurrency, cancellationToken);
                warmUpRequests += Math.Min(4 * concurrency, bodies.Length);
            }

            Console.WriteLine($"warm-up: {warmUpRequests:N0} requests in {warmUp.Elapsed.TotalSeconds:F1} s (not counted)");

            var httpCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            await SendAllAsync(http, bodies, concurrency, cancellationToken);
            var httpRate = count / watch.Elapsed.TotalSeconds;
            httpCpu = Process.GetCurrentProcess().TotalProcessorTime - httpCpu;
            Console.WriteLine($"HTTP POST /v1/events -> Kafka : {count:N0} events in {watch.Elapsed.TotalSeconds:F2} s = {httpRate,10:N0} events/s " +
                $"({bodies.Length / watch.Elapsed.TotalSeconds:N0} req/s)");

            var (bareRate, bareCpu) = BareProducer(mock.BootstrapServers, bareTopic, all, now);
            Console.WriteLine($"bare Confluent.Kafka producer   : {count:N0} events                 = {bareRate,10:N0} events/s");
            Console.WriteLine($"ratio HTTP / bare              : {httpRate / bareRate:F2} (target >= 0.5; target HTTP >= 100,000 events/s)");
            WhereTheTimeGoes(api.Services, bodies, count, httpCpu, bareCpu, cancellationToken);
            return 0;
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The CPU both runs used (this process holds the client, the API, the producer and the mock broker, on every core),
    /// per event, and what the API's own steps cost per event on one thread, timed on the same request bodies: where the
    /// HTTP path's extra time goes.
    /// </summary>
    private static void WhereTheTimeGoes(IServiceProvider services, byte[][] bodies, int count, TimeSpan httpCpu, TimeSpan bareCpu,
        CancellationToken cancellationToken)
    {
        double Micros(TimeSpan cpu) => cpu.TotalMicroseconds / count;
        Console.WriteLine($"CPU per event, all threads of this process (client, API, producer, mock broker), timed part only: HTTP " +
            $"{Micros(httpCpu):F2} µs, bare {Micros(bareCpu):F2} µs (the HTTP run's extra {Micros(httpCpu - bareCpu):F2} µs an event is what the " +
            $"ratio pays for; on {Environment.ProcessorCount} busy cores the ratio can be at most {bareCpu / httpCpu:F2})");

        var validator = services.GetRequiredService<EventValidator>();
        var checks = services.GetRequiredService<Experiments.ExperimentAssignments>().ChecksFor("bench");
        var sample = bodies.Take(Math.Clamp(50_000 / Math.Max(1, count / bodies.Length), 1, bodies.Length)).ToArray();
        var events = 0;
        var accepted = new List<TenantEvent>();
        TimeSpan Best(Action step)
        {
            var best = TimeSpan.MaxValue;
            for (var run = 0; run < 5; run++)
            {
                var watch = Stopwatch.StartNew();
                step();
                best = watch.Elapsed < best ? watch.Elapsed : best;
            }

            return best;
        }

        var parse = Best(() =>
        {
            events = 0;
            accepted.Clear();
            var errors = new List<EventError>();
            foreach (var body in sample)
            {
                using var document = System.Text.Json.JsonDocument.Parse(body);
                foreach (var element in document.RootElement.GetProperty("events").EnumerateArray())
                {
                    errors.Clear();
                    var e = validator.Validate(EventJson.ReadRaw(element), EventSource.Http, errors);
                    if (e is not null && checks.CheckAsync(e, cancellationToken).AsTask().GetAwaiter().GetResult() is null)
                    {
                        accepted.Add(new TenantEvent("bench", DateTimeOffset.UtcNow, e));
                    }

                    events++;
                }
            }
        });
        var encode = Best(() =>
        {
            foreach (var item in accepted)
            {
                _ = EventCodec.Encode(item);
            }
        });
        Console.WriteLine($"the API's steps on one thread, per event ({events:N0} events): parse JSON + validate + check the experiment " +
            $"{parse.TotalMicroseconds / events:F2} µs, encode the log record {encode.TotalMicroseconds / events:F2} µs (the bare run encodes before timing); " +
            "the rest of the extra is HTTP (Kestrel, HttpClient, the 202 answers) and the event log's bookkeeping");
    }

    private static async Task SendAllAsync(HttpClient http, byte[][] bodies, int concurrency, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (body, ct) =>
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("/v1/events", content, ct);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    throw new CliException($"the ingest API answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                }
            });
    }

    /// <summary>The same records, encoded as the API encodes them, produced with the same settings; the encoding is not timed.</summary>
    private static (double Rate, TimeSpan Cpu) BareProducer(string bootstrap, string topic, PricingEvent[] events, DateTimeOffset now)
    {
        var messages = events.Select(e => new TenantEvent("bench", now, e))
            .Select(t => new Message<string, byte[]> { Key = EventCodec.PartitionKey(t), Value = EventCodec.Encode(t) }).ToArray();
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            QueueBufferingMaxMessages = 1_000_000,
            CompressionType = CompressionType.Lz4,
        };
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var pending = messages.Length;
        var failed = 0;
        using var done = new ManualResetEventSlim();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        foreach (var message in messages)
        {
            producer.Produce(topic, message, report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }

                if (Interlocked.Decrement(ref pending) == 0)
                {
                    done.Set();
                }
            });
        }

        done.Wait();
        watch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        if (failed > 0)
        {
            throw new CliException($"the bare producer lost {failed} deliveries");
        }

        return (messages.Length / watch.Elapsed.TotalSeconds, cpu);
    }
}
