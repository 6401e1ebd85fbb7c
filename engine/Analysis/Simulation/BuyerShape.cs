using System.Globalization;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using PricingOptimizer.Pricing.Buyers;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Simulation;

/// <summary>One purchase of a simulated buyer: its revenue, and its quantity when the basket says so (else units are revenue ÷ price).</summary>
public readonly record struct SimulatedPurchase(decimal Revenue, int? Quantity);

/// <summary>
/// What a simulated buyer pays as a function of price, beside the demand curve that says whether they buy:
/// <list type="bullet">
/// <item><c>one</c> — one unit at the price, once (every buyer pays the price);</item>
/// <item><c>extra:mean=M,elasticity=E,ref=R[,spread=S]</c> — one basket of 1 + Poisson(M·(p/R)^E) units (so units fall
/// with price for E &lt; 0 and rise for E &gt; 0), its revenue the units at the price times a lognormal add-on factor of
/// mean 1 and log-sd S (heavy tails for S near 1 or more); the convert carries the quantity;</item>
/// <item><c>repeat:rate=Q,elasticity=E,ref=R,periods=N[,spread=S]</c> — a first purchase, then up to N renewals, each
/// taken with probability min(0.95, Q·(p/R)^E) until the first one skipped; each at the price times the add-on factor.</item>
/// </list>
/// </summary>
public sealed class BuyerShape
{
    private static readonly Dictionary<string, string[]> Names = new(StringComparer.Ordinal)
    {
        ["one"] = [],
        ["extra"] = ["mean", "elasticity", "ref", "spread"],
        ["repeat"] = ["rate", "elasticity", "ref", "periods", "spread"],
    };

    private readonly double[] q;

    private BuyerShape(string kind, double[] parameters)
    {
        Kind = kind;
        q = parameters;
    }

    /// <summary>Every buyer pays the price once.</summary>
    public static BuyerShape One { get; } = new("one", []);

    public string Kind { get; }

    public static IReadOnlyCollection<string> Kinds => Names.Keys;

    public static BuyerShape Create(string kind, params double[] parameters)
    {
        if (!Names.TryGetValue(kind, out var names) || names.Length != parameters.Length)
        {
            throw new ArgumentException($"units '{kind}' takes {string.Join(", ", names ?? [])}", nameof(parameters));
        }

        var shape = new BuyerShape(kind, parameters);
        return shape.Problem() is { } problem ? throw new ArgumentException($"units '{kind}': {problem}", nameof(parameters)) : shape;
    }

    /// <summary>Parses <c>kind:name=value,…</c>; <c>spread</c> may be left out (0).</summary>
    /// <exception cref="FormatException">An unknown kind, a missing or unknown parameter, or an impossible value; the message says which.</exception>
    public static BuyerShape Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? text : text[..colon]).Trim();
        if (!Names.TryGetValue(kind, out var names))
        {
            throw new FormatException($"unknown units '{kind}'; known: {string.Join(", ", Names.Keys)}");
        }

        var given = new Dictionary<string, double>(StringComparer.Ordinal) { ["spread"] = 0 };
        foreach (var pair in (colon < 0 ? "" : text[(colon + 1)..]).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || !double.TryParse(pair[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture,
                out var value) || !double.IsFinite(value))
            {
                throw new FormatException($"units '{kind}': '{pair}' is not name=number");
            }

            var name = pair[..equals].Trim();
            given[name] = names.Contains(name) ? value
                : throw new FormatException($"units '{kind}' has no parameter '{name}'; it takes {string.Join(", ", names)}");
        }

        var missing = names.Where(n => !given.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"units '{kind}' needs {string.Join(", ", missing)}");
        }

        var shape = new BuyerShape(kind, [.. names.Select(n => given[n])]);
        return shape.Problem() is { } problem ? throw new FormatException($"units '{kind}': {problem}") : shape;
    }

    private string? Problem() => Kind switch
    {
        "extra" when !(q[0] >= 0 && q[2] > 0 && q[3] >= 0 && q[3] <= 3) => "mean must be ≥ 0, ref positive, spread from 0 to 3",
        "repeat" when !(q[0] >= 0 && q[2] > 0 && q[3] >= 0 && q[3] <= 1000 && q[3] == Math.Floor(q[3]) && q[4] >= 0 && q[4] <= 3) =>
            "rate must be ≥ 0, ref positive, periods a whole number from 0 to 1000, spread from 0 to 3",
        _ => null,
    };

    private double Spread => Kind == "one" ? 0 : q[^1];

    /// <summary>The chance of each renewal at <paramref name="price"/> (repeat purchases).</summary>
    private double Renewal(double price) => Math.Min(0.95, q[0] * Math.Pow(price / q[2], q[1]));

    /// <summary>Expected units (purchases at the price) per buyer at <paramref name="price"/>; the add-on factor has mean 1.</summary>
    public double MeanUnits(double price) => Kind switch
    {
        "extra" => 1 + (q[0] * Math.Pow(price / q[2], q[1])),
        "repeat" => Renewal(price) is var r && r >= 1 ? q[3] + 1 : (1 - Math.Pow(r, q[3] + 1)) / (1 - r),
        _ => 1,
    };

    /// <summary>One buyer's purchases at <paramref name="price"/>.</summary>
    public IEnumerable<SimulatedPurchase> Purchases(Random random, decimal price)
    {
        var p = (double)price;
        switch (Kind)
        {
            case "extra":
                var lambda = q[0] * Math.Pow(p / q[2], q[1]);
                var units = 1 + (lambda > 0 ? Poisson.Sample(random, lambda) : 0);
                yield return new SimulatedPurchase(Round(price * units * AddOn(random)), units);
                break;
            case "repeat":
                yield return new SimulatedPurchase(Round(price * AddOn(random)), null);
                var renewal = Renewal(p);
                for (var k = 0; k < q[3] && random.NextDouble() < renewal; k++)
                {
                    yield return new SimulatedPurchase(Round(price * AddOn(random)), null);
                }

                break;
            default:
                yield return new SimulatedPurchase(price, null);
                break;
        }
    }

    /// <summary>A lognormal factor of mean 1 (log-sd <see cref="Spread"/>): add-ons and basket value beyond the units.</summary>
    private decimal AddOn(Random random) =>
        Spread == 0 ? 1m : (decimal)Math.Exp((Spread * Normal.Sample(random, 0, 1)) - (Spread * Spread / 2));

    private static decimal Round(decimal amount) => Math.Round(amount, 4);

    /// <summary>
    /// The same kind with its mean-units parameters (mean or rate, and elasticity) refitted to observed units per buyer by
    /// weighted least squares (Nelder–Mead from the true values): the correctly specified model's view of baskets.
    /// </summary>
    public BuyerShape Refit(IReadOnlyList<(double Price, long Buyers, double MeanUnits, double Variance)> observed)
    {
        if (Kind == "one" || observed.Count == 0)
        {
            return this;
        }

        double Objective(Vector<double> x)
        {
            var parameters = (double[])q.Clone();
            (parameters[0], parameters[1]) = (Math.Exp(x[0]), x[1]);
            var candidate = new BuyerShape(Kind, parameters);
            var sum = 0.0;
            foreach (var (price, buyers, mean, variance) in observed)
            {
                var d = mean - candidate.MeanUnits(price);
                sum += buyers * d * d / Math.Max(variance, 1e-9);
            }

            return sum;
        }

        var start = Vector<double>.Build.DenseOfArray([Math.Log(Math.Max(q[0], 1e-6)), q[1]]);
        try
        {
            var result = new NelderMeadSimplex(1e-10, 5_000).FindMinimum(ObjectiveFunction.Value(Objective), start,
                Vector<double>.Build.DenseOfArray([0.1, 0.1]));
            var fitted = (double[])q.Clone();
            (fitted[0], fitted[1]) = (Math.Exp(result.MinimizingPoint[0]), result.MinimizingPoint[1]);
            return new BuyerShape(Kind, fitted);
        }
        catch (MaximumIterationsException)
        {
            return this;
        }
    }

    /// <summary>Per tested price, the buyers' mean units and their variance, from buyer sums (units as the readout counts them).</summary>
    public static List<(double Price, long Buyers, double MeanUnits, double Variance)> ObservedUnits(IEnumerable<BuyerSums> buyers) =>
        [.. buyers.Where(b => b.Buyers > 0).Select(b => ((double)b.Price, b.Buyers, b.Units / b.Buyers,
            b.Buyers < 2 ? 0 : Math.Max(0, (b.UnitsSquares - (b.Units * b.Units / b.Buyers)) / (b.Buyers - 1))))];

    public override string ToString() => Kind == "one"
        ? "one"
        : Kind + ":" + string.Join(",", Names[Kind].Zip(q, (n, v) => string.Create(CultureInfo.InvariantCulture, $"{n}={v:0.####}")));
}
