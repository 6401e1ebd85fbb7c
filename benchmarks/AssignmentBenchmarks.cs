using System.Globalization;
using BenchmarkDotNet.Attributes;
using PricingOptimizer.Experiments;

namespace PricingOptimizer.Benchmarks;

/// <summary>In-process variant assignment on one core (target: at least 10 M assignments/s, i.e. at most 100 ns each).</summary>
[MemoryDiagnoser]
public class AssignmentBenchmarks
{
    private const int Users = 4096;
    private readonly string[] users = Enumerable.Range(0, Users).Select(i => "user-" + i.ToString("D8", CultureInfo.InvariantCulture)).ToArray();
    private readonly VariantAssigner twoVariants = new("checkout-price", [1, 1]);
    private readonly VariantAssigner fiveVariants = new("checkout-price-five", [1, 2, 1, 1, 0.5]);

    /// <summary>Assigns 4,096 users; divide the time by 4,096 for one assignment.</summary>
    [Benchmark(OperationsPerInvoke = Users, Baseline = true)]
    public int TwoVariants()
    {
        var sum = 0;
        foreach (var user in users)
        {
            sum += twoVariants.Assign(user);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int FiveVariants()
    {
        var sum = 0;
        foreach (var user in users)
        {
            sum += fiveVariants.Assign(user);
        }

        return sum;
    }
}
