namespace PricingOptimizer.Tests.Fixtures;

/// <summary>
/// A clock with timers that moves only when the test says: <see cref="AdvanceToNextAsync"/> waits until the code
/// under test has set as many timers as the test expects, then jumps to the earliest and fires it. Retries, waits
/// and timeouts then run in fake seconds, not in the test's real time.
/// </summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private readonly object gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now = start;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    /// <summary>Timers set and not yet fired or disposed.</summary>
    public int Pending
    {
        get
        {
            lock (gate)
            {
                return timers.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock by <paramref name="by"/>, firing the timers that fall due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset until;
        lock (gate)
        {
            until = now + by;
        }

        while (true)
        {
            ManualTimer? next;
            lock (gate)
            {
                next = timers.Where(t => t.Due <= until).MinBy(t => t.Due);
                if (next is null)
                {
                    now = until;
                    Signal();
                    return;
                }

                now = next.Due > now ? next.Due : now;
                timers.Remove(next);
            }

            next.Fire();
        }
    }

    /// <summary>Waits until <paramref name="timersSet"/> timers are pending (or <paramref name="done"/> ends), then fires the earliest.</summary>
    /// <returns>False when <paramref name="done"/> ended first.</returns>
    public async Task<bool> AdvanceToNextAsync(int timersSet, Task done)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (timers.Count >= timersSet)
                {
                    break;
                }

                wait = changed.Task;
            }

            if (await Task.WhenAny(wait, done) == done)
            {
                return false;
            }
        }

        ManualTimer next;
        lock (gate)
        {
            next = timers.MinBy(t => t.Due)!;
            if (next.Due > now)
            {
                now = next.Due;
            }

            timers.Remove(next);
            Signal();
        }

        next.Fire();
        return true;
    }

    private void Signal()
    {
        var old = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    private sealed class ManualTimer(ManualTime clock, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan period = Timeout.InfiniteTimeSpan;

        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
                this.period = period;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    Due = clock.now + dueTime;
                    clock.timers.Add(this);
                }

                clock.Signal();
            }

            return true;
        }

        public void Fire()
        {
            callback(state);
            if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
            {
                Change(period, period);
            }
        }

        public void Dispose()
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
                clock.Signal();
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
