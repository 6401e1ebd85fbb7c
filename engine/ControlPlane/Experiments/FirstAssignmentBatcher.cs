namespace PricingOptimizer.Experiments;

/// <summary>
/// Gathers the first-assignment lookups of concurrent requests into one store call (a group commit: one query per
/// experiment for the users already recorded, one transaction for the new ones). While one batch is with the store,
/// new requests queue, and the next batch takes them all (up to <see cref="MaxBatch"/>); alone, a request goes at
/// once. A failed batch fails each of its requests with the store's error, so the caller's degraded mode still applies.
/// (Reads and records in two lanes, so that a read need not wait behind a commit, measured slower on 2 cores.)
/// </summary>
public sealed class FirstAssignmentBatcher(ControlPlane.IAllocationStore store)
{
    /// <summary>The most lookups in one store call.</summary>
    public const int MaxBatch = 256;

    private readonly Lock gate = new();
    private readonly List<(ControlPlane.FirstAssignmentRequest Request, TaskCompletionSource<FirstAssignment> Done)> pending = [];
    private bool draining;

    /// <summary>The user's first assignment (recording <c>IfNew</c> when the user has none), in the next batch.</summary>
    public Task<FirstAssignment> FirstAssignmentAsync(ControlPlane.FirstAssignmentRequest request)
    {
        var done = new TaskCompletionSource<FirstAssignment>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            pending.Add((request, done));
            if (draining)
            {
                return done.Task;
            }

            draining = true;
        }

        _ = Task.Run(DrainAsync);
        return done.Task;
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            List<(ControlPlane.FirstAssignmentRequest Request, TaskCompletionSource<FirstAssignment> Done)> batch;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    draining = false;
                    return;
                }

                var take = Math.Min(MaxBatch, pending.Count);
                batch = pending.GetRange(0, take);
                pending.RemoveRange(0, take);
            }

            try
            {
                // Not the requests' cancellation: a batch serves many, and a user once recorded must be answered to all.
                var found = await store.FirstAssignmentsAsync([.. batch.Select(b => b.Request)], recordNew: true, CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    if (found[i] is { } first)
                    {
                        batch[i].Done.SetResult(first);
                    }
                    else
                    {
                        batch[i].Done.SetException(new InvalidOperationException($"the store recorded no first assignment for '{batch[i].Request.UserId}'"));
                    }
                }
            }
            catch (Exception fault)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(fault);
                }
            }
        }
    }
}
