using PricingOptimizer.ControlPlane;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Tests.Adaptive;

/// <summary>Concurrent first-assignment lookups share store calls, each gets its own user's answer, and a store fault reaches every caller.</summary>
public sealed class FirstAssignmentBatcherTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Records each call; the first one waits until released, so requests made meanwhile queue for the next.</summary>
    private sealed class Store : IAllocationStore
    {
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly List<int> BatchSizes = [];
        public readonly Dictionary<(string, string), FirstAssignment> Recorded = [];
        public bool Fail;

        public async Task<IReadOnlyList<FirstAssignment?>> FirstAssignmentsAsync(IReadOnlyList<FirstAssignmentRequest> requests, bool recordNew,
            CancellationToken cancellationToken)
        {
            Assert.True(recordNew);
            lock (BatchSizes)
            {
                BatchSizes.Add(requests.Count);
            }

            await Release.Task;
            if (Fail)
            {
                throw new TimeoutException("store down");
            }

            lock (Recorded)
            {
                return [.. requests.Select(r => Recorded.TryGetValue((r.ExperimentId, r.UserId), out var known) ? known
                    : Recorded[(r.ExperimentId, r.UserId)] = r.IfNew)];
            }
        }

        public Task<bool> AddWeightVersionAsync(WeightVersion version, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<WeightVersion>> ListWeightVersionsAsync(string tenantId, string experimentId, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    [Fact]
    public async Task Requests_made_while_a_batch_is_out_go_together_in_the_next_and_each_gets_its_users_answer()
    {
        var store = new Store();
        store.Recorded[("exp", "old")] = new FirstAssignment("a", 0, At);
        var batcher = new FirstAssignmentBatcher(store);
        var first = batcher.FirstAssignmentAsync(new("t", "exp", "u0", new("b", 1, At)));
        while (store.BatchSizes.Count == 0)
        {
            await Task.Yield();
        }

        // 300 more while the first is with the store: u1..u299, plus the recorded user asking for another variant.
        var more = Enumerable.Range(1, 299).Select(i => batcher.FirstAssignmentAsync(new("t", "exp", "u" + i, new(i % 2 == 0 ? "a" : "b", 1, At))))
            .Append(batcher.FirstAssignmentAsync(new("t", "exp", "old", new("b", 1, At)))).ToList();
        store.Release.SetResult();
        var answers = await Task.WhenAll(more);

        Assert.Equal("b", (await first).VariantId);
        Assert.Equal([1, FirstAssignmentBatcher.MaxBatch, 300 - FirstAssignmentBatcher.MaxBatch], store.BatchSizes);
        Assert.Equal(Enumerable.Range(1, 299).Select(i => i % 2 == 0 ? "a" : "b"), answers[..^1].Select(a => a.VariantId));
        Assert.Equal(new FirstAssignment("a", 0, At), answers[^1]);
    }

    [Fact]
    public async Task A_store_fault_fails_every_request_of_the_batch_and_the_next_request_tries_again()
    {
        var store = new Store { Fail = true };
        var batcher = new FirstAssignmentBatcher(store);
        var asks = Enumerable.Range(0, 5).Select(i => batcher.FirstAssignmentAsync(new("t", "exp", "u" + i, new("a", 1, At)))).ToList();
        store.Release.SetResult();
        foreach (var ask in asks)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => ask);
        }

        store.Fail = false;
        Assert.Equal("b", (await batcher.FirstAssignmentAsync(new("t", "exp", "u9", new("b", 1, At)))).VariantId);
    }
}
