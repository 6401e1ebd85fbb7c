using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PricingOptimizer.ControlPlane.Postgres;

/// <summary>
/// Holds one connection that LISTENs on <see cref="PostgresControlPlaneStore.ChangesChannel"/> and publishes each
/// notification to <see cref="ControlPlaneChanges"/>, so a change made through any process reaches this one's caches
/// in milliseconds. After a lost connection it reconnects and publishes "everything changed", since notifications
/// sent meanwhile are gone.
/// </summary>
public sealed class PostgresChangeListener(IControlPlaneStore controlPlane, ControlPlaneChanges changes, TimeProvider time,
    ILogger<PostgresChangeListener> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (controlPlane is not PostgresControlPlaneStore store)
        {
            listening.TrySetResult(); // SQLite: nothing is announced; caches keep their time bounds
            return;
        }

        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (ControlPlaneChanges.Parse(e.Payload) is { } change)
                    {
                        changes.Publish(change);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresControlPlaneStore.ChangesChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                if (!first)
                {
                    changes.Publish(new ControlPlaneChange(ControlPlaneChangeKind.Everything));
                }

                first = false;
                listening.TrySetResult();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                logger.LogWarning("control-plane change listener lost its connection ({Message}); caches fall back to their time bounds until it " +
                    "is back", e.Message);
                changes.Publish(new ControlPlaneChange(ControlPlaneChangeKind.Everything));
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }
}
