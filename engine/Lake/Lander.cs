using Microsoft.Extensions.Logging;
using PricingOptimizer.EventLog;

namespace PricingOptimizer.Lake;

/// <summary>
/// Moves events from the log into the lake: reads a batch, writes one Parquet file per (source, tenant, event date)
/// through temp-file-then-rename, and commits the positions only after every file is in place. A crash between
/// the two replays the batch onto the same file names, so nothing is lost and nothing doubles.
/// </summary>
public sealed class Lander(IEventLog log, LakeLayout lake, LanderOptions options, ILogger<Lander> logger, TimeProvider? clock = null)
{
    private readonly TimeProvider time = clock ?? TimeProvider.System;

    /// <summary>Lands until <paramref name="cancellationToken"/> fires. A failing batch is retried from the last commit.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        LanderLog.Started(logger, log.Kind, lake.Root, options.BatchSize, options.FlushIntervalMs);
        if (lake.RemoveStaleTemporaryFiles(time.GetUtcNow()) is > 0 and var removed)
        {
            LanderLog.StaleTemporaryFiles(logger, removed);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var consumer = log.OpenConsumer(options.GroupId);
            try
            {
                await LandAsync(consumer, stopWhenIdle: false, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever failed (disk, log, an undecodable record), the process keeps serving: the error is logged,
                // and a new consumer resumes from the last commit, since this one has moved past what was not committed.
                LanderLog.BatchFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                consumer.Dispose();
            }
        }
    }

    /// <summary>
    /// Lands batch after batch; the next batch is read (and decoded) while the current one is written, so reading and
    /// writing overlap. At most two batches are in memory. With <paramref name="stopWhenIdle"/>, returns at the first
    /// read that finds nothing. Returns how many events it landed.
    /// </summary>
    public async Task<long> LandAsync(IEventLogConsumer consumer, bool stopWhenIdle, CancellationToken cancellationToken)
    {
        long total = 0;
        var next = Read(consumer, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = await next;
            if (batch.Count == 0)
            {
                if (stopWhenIdle)
                {
                    break;
                }

                next = Read(consumer, cancellationToken);
                continue;
            }

            next = Read(consumer, cancellationToken);
            int files;
            TimeSpan writing;
            try
            {
                var started = time.GetTimestamp();
                files = await WriteFilesAsync(batch, cancellationToken);
                writing = time.GetElapsedTime(started);
            }
            finally
            {
                // The consumer is used by one caller at a time: the read ahead ends before the commit starts.
                await next.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            await CommitAsync(consumer, batch, files, writing, cancellationToken);
            total += batch.Count;
        }

        return total;
    }

    private Task<LogBatch> Read(IEventLogConsumer consumer, CancellationToken cancellationToken) =>
        consumer.ReadAsync(options.BatchSize, TimeSpan.FromMilliseconds(options.FlushIntervalMs), cancellationToken);

    /// <summary>Reads one batch from <paramref name="consumer"/>, lands it and commits it. Returns how many events it landed.</summary>
    public async Task<int> LandBatchAsync(IEventLogConsumer consumer, CancellationToken cancellationToken)
    {
        var batch = await Read(consumer, cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }

        var started = time.GetTimestamp();
        var files = await WriteFilesAsync(batch, cancellationToken);
        await CommitAsync(consumer, batch, files, time.GetElapsedTime(started), cancellationToken);
        return batch.Count;
    }

    private async Task CommitAsync(IEventLogConsumer consumer, LogBatch batch, int files, TimeSpan writing, CancellationToken cancellationToken)
    {
        await consumer.CommitAsync(batch, cancellationToken);
        LanderLog.Landed(logger, batch.Count, files, writing.TotalMilliseconds);
    }

    /// <summary>Writes one file per (source, tenant, event date) of the batch; returns how many.</summary>
    private async Task<int> WriteFilesAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        var files = batch.Records
            .GroupBy(r => (r.Source, r.Item.TenantId, Date: DateOnly.FromDateTime(r.Item.Event.OccurredAt.UtcDateTime)))
            .Select(g => (Key: g.Key, Records: (IReadOnlyList<LogRecord>)g.ToList()))
            .ToList();

        await Parallel.ForEachAsync(files,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (file, ct) =>
            {
                var path = lake.FilePath(file.Key.TenantId, file.Key.Date, file.Key.Source, file.Records[0].Position);
                await ParquetEventWriter.WriteAsync(path, file.Records, ct);
            });
        return files.Count;
    }
}

internal static partial class LanderLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Lander started on the {Kind} log into {Lake} (batch {BatchSize}, flush every {FlushMs} ms)")]
    public static partial void Started(ILogger logger, string kind, string lake, int batchSize, int flushMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Files} temporary files that crashed writers left in the lake")]
    public static partial void StaleTemporaryFiles(ILogger logger, int files);

    [LoggerMessage(Level = LogLevel.Information, Message = "Landed {Events} events in {Files} files (written in {Ms:F0} ms)")]
    public static partial void Landed(ILogger logger, int events, int files, double ms);

    [LoggerMessage(Level = LogLevel.Error, Message = "Landing a batch failed; retrying from the last committed position")]
    public static partial void BatchFailed(ILogger logger, Exception exception);
}
