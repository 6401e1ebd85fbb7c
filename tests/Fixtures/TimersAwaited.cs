using Microsoft.Extensions.Time.Testing;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>
/// <see cref="FakeTimeProvider"/> plus the one thing it lacks for code that sets its own timers in the background (the
/// SDK's retries and timeouts): <see cref="AdvanceToNextAsync"/> waits until the code under test has set as many timers
/// as the test expects, then moves the clock to the earliest and so fires it. Retries, waits and timeouts run in fake
/// seconds, not in the test's real time.
/// </summary>
public sealed class TimersAwaited(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly object gate = new();
    private readonly HashSet<Tracked> pending = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new Tracked(this);
        tracked.Inner = base.CreateTimer(s => tracked.Fire(callback, s), state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        tracked.Change(dueTime, period);
        return tracked;
    }

    /// <summary>Waits until <paramref name="timersSet"/> timers are pending (or <paramref name="done"/> ends), then fires the earliest.</summary>
    /// <returns>False when <paramref name="done"/> ended first.</returns>
    public async Task<bool> AdvanceToNextAsync(int timersSet, Task done)
    {
        DateTimeOffset due;
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (pending.Count >= timersSet)
                {
                    due = pending.Min(t => t.Due);
                    break;
                }

                wait = changed.Task;
            }

            if (await Task.WhenAny(wait, done) == done)
            {
                return false;
            }
        }

        var now = GetUtcNow();
        Advance(due > now ? due - now : TimeSpan.Zero);
        return true;
    }

    private void Signal()
    {
        var old = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    /// <summary>A fake timer whose due time is known, so the earliest can be found.</summary>
    private sealed class Tracked(TimersAwaited clock) : ITimer
    {
        private TimeSpan period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock.gate)
            {
                this.period = period;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    clock.pending.Remove(this);
                }
                else
                {
                    Due = clock.GetUtcNow() + dueTime;
                    clock.pending.Add(this);
                }

                clock.Signal();
            }

            return Inner.Change(dueTime, period);
        }

        public void Fire(TimerCallback callback, object? state)
        {
            lock (clock.gate)
            {
                if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
                {
                    Due = clock.GetUtcNow() + period;
                }
                else
                {
                    clock.pending.Remove(this);
                }

                clock.Signal();
            }

            callback(state);
        }

        public void Dispose()
        {
            lock (clock.gate)
            {
                clock.pending.Remove(this);
                clock.Signal();
            }

            Inner.Dispose();
        }

        public async ValueTask DisposeAsync()
        {
            Dispose();
            await Inner.DisposeAsync();
        }
    }
}
