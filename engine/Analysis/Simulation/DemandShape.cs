using System.Globalization;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using PricingOptimizer.Pricing.Demand;

namespace PricingOptimizer.Simulation;

/// <summary>
/// A true demand curve P(convert | price) for simulations and backtests: a named shape with named parameters
/// (<c>lognormal:median=12,sigma=0.4,reach=0.3</c>), or a table of price → rate read from CSV. A parametric shape can
/// be refitted to data by maximum likelihood — the "correctly specified model" a backtest compares with.
/// </summary>
public sealed class DemandShape
{
    private static readonly Dictionary<string, (string[] Names, Func<double[], double, double> Rate, string About)> Shapes = new(StringComparer.Ordinal)
    {
        ["logit"] = (["a", "b"], (q, p) => Logistic(q[0] + (q[1] * p)), "1 / (1 + e^−(a + b·p))"),
        ["logit-log"] = (["a", "b"], (q, p) => Logistic(q[0] + (q[1] * Math.Log(p))), "1 / (1 + e^−(a + b·ln p))"),
        ["lognormal"] = (["median", "sigma", "reach"], (q, p) => q[2] * LognormalSurvival(p, q[0], q[1]),
            "reach · P(willingness to pay ≥ p), willingness to pay lognormal with that median and sigma of its log"),
        ["weibull"] = (["scale", "shape", "reach"], (q, p) => q[2] * Math.Exp(-Math.Pow(p / q[0], q[1])), "reach · e^−(p/scale)^shape"),
        ["exponential"] = (["reach", "scale"], (q, p) => q[0] * Math.Exp(-p / q[1]), "reach · e^−p/scale"),
        ["linear"] = (["reach", "choke"], (q, p) => q[0] * Math.Max(0, 1 - (p / q[1])), "reach · max(0, 1 − p/choke)"),
        ["segments"] = (["share", "median1", "sigma1", "median2", "sigma2", "reach"],
            (q, p) => q[5] * ((q[0] * LognormalSurvival(p, q[1], q[2])) + ((1 - q[0]) * LognormalSurvival(p, q[3], q[4]))),
            "reach · (share · segment 1 + (1 − share) · segment 2), each segment's willingness to pay lognormal"),
    };

    private readonly double[] parameters;
    private readonly (double Price, double Rate)[]? table;

    private DemandShape(string kind, double[] parameters, (double, double)[]? table)
    {
        Kind = kind;
        this.parameters = parameters;
        this.table = table;
    }

    /// <summary>The shape's name (<c>logit</c>, <c>lognormal</c>, …, or <c>table</c>).</summary>
    public string Kind { get; }

    public static IReadOnlyCollection<string> Kinds => Shapes.Keys;

    /// <summary>True for named shapes: a table has no parameters to refit.</summary>
    public bool CanRefit => table is null;

    public static DemandShape Create(string kind, params double[] parameters)
    {
        if (!Shapes.TryGetValue(kind, out var shape))
        {
            throw new ArgumentException($"unknown curve '{kind}'; known: {string.Join(", ", Shapes.Keys)}, or a CSV table", nameof(kind));
        }

        if (parameters.Length != shape.Names.Length || parameters.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException($"curve '{kind}' takes {string.Join(", ", shape.Names)}", nameof(parameters));
        }

        var created = new DemandShape(kind, parameters, null);
        if (created.Problem() is { } problem)
        {
            throw new ArgumentException($"curve '{kind}': {problem}", nameof(parameters));
        }

        return created;
    }

    /// <summary>Parses <c>kind:name=value,…</c>, e.g. <c>lognormal:median=12,sigma=0.4,reach=0.3</c>.</summary>
    /// <exception cref="FormatException">The text names no known shape, misses a parameter, or gives an impossible value; the message says which.</exception>
    public static DemandShape Parse(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = (colon < 0 ? text : text[..colon]).Trim();
        if (!Shapes.TryGetValue(kind, out var shape))
        {
            throw new FormatException($"unknown curve '{kind}'; known: {string.Join(", ", Shapes.Keys)} (or --curve-csv for a table)");
        }

        var given = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var pair in (colon < 0 ? "" : text[(colon + 1)..]).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || !double.TryParse(pair[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture,
                out var value) || !double.IsFinite(value))
            {
                throw new FormatException($"curve '{kind}': '{pair}' is not name=number");
            }

            var name = pair[..equals].Trim();
            if (!shape.Names.Contains(name))
            {
                throw new FormatException($"curve '{kind}' has no parameter '{name}'; it takes {string.Join(", ", shape.Names)}");
            }

            given[name] = value;
        }

        var missing = shape.Names.Where(n => !given.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"curve '{kind}' needs {string.Join(", ", missing)} (it takes {string.Join(", ", shape.Names)}: {shape.About})");
        }

        var created = new DemandShape(kind, [.. shape.Names.Select(n => given[n])], null);
        return created.Problem() is { } problem ? throw new FormatException($"curve '{kind}': {problem}") : created;
    }

    /// <summary>A table of (price, conversion rate) rows; rates between prices are interpolated linearly, flat beyond.</summary>
    /// <exception cref="FormatException">Fewer than two rows, a price that is not positive, or a rate outside [0, 1].</exception>
    public static DemandShape FromTable(IEnumerable<(double Price, double Rate)> rows)
    {
        var sorted = rows.OrderBy(r => r.Price).ToArray();
        if (sorted.Length < 2)
        {
            throw new FormatException("a curve table needs at least two rows of price,rate");
        }

        if (sorted.Any(r => !(r.Price > 0) || !(r.Rate is >= 0 and <= 1)) || sorted.Select(r => r.Price).Distinct().Count() != sorted.Length)
        {
            throw new FormatException("a curve table needs distinct positive prices and rates from 0 to 1");
        }

        return new DemandShape("table", [], sorted);
    }

    /// <summary>Reads a CSV of <c>price,rate</c> rows (a header line is allowed).</summary>
    /// <exception cref="FormatException">A row that is not two numbers; the message names the line.</exception>
    public static DemandShape ReadCsv(string path)
    {
        var rows = new List<(double, double)>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var cells = text.Split(',');
            if (cells.Length != 2 || !double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var price)
                                  || !double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
            {
                if (line == 1 && rows.Count == 0)
                {
                    continue; // a header
                }

                throw new FormatException($"{path}:{line}: expected price,rate (two numbers)");
            }

            rows.Add((price, rate));
        }

        return FromTable(rows);
    }

    public double Rate(double price)
    {
        if (table is null)
        {
            return Math.Clamp(Shapes[Kind].Rate(parameters, price), 0, 1);
        }

        if (price <= table[0].Price)
        {
            return table[0].Rate;
        }

        if (price >= table[^1].Price)
        {
            return table[^1].Rate;
        }

        var upper = 1;
        while (table[upper].Price < price)
        {
            upper++;
        }

        var (p0, r0) = table[upper - 1];
        var (p1, r1) = table[upper];
        return r0 + ((r1 - r0) * (price - p0) / (p1 - p0));
    }

    /// <summary>The best value in [<paramref name="low"/>, <paramref name="high"/>]: every cent, then a golden-section polish around the best cent.</summary>
    public (double Price, double Value) Optimum(double low, double high, Func<double, double, double> value)
    {
        var best = (Price: low, Value: value(low, Rate(low)));
        var cents = (int)Math.Round((high - low) * 100);
        for (var i = 1; i <= cents; i++)
        {
            var p = Math.Min(high, low + (i / 100.0));
            var v = value(p, Rate(p));
            if (v > best.Value)
            {
                best = (p, v);
            }
        }

        var ratio = (Math.Sqrt(5) - 1) / 2;
        double a = Math.Max(low, best.Price - 0.01), b = Math.Min(high, best.Price + 0.01);
        for (var i = 0; i < 60; i++)
        {
            var c = b - (ratio * (b - a));
            var d = a + (ratio * (b - a));
            if (value(c, Rate(c)) > value(d, Rate(d)))
            {
                b = d;
            }
            else
            {
                a = c;
            }
        }

        var polished = (a + b) / 2;
        var polishedValue = value(polished, Rate(polished));
        return polishedValue > best.Value ? (polished, polishedValue) : best;
    }

    /// <summary>
    /// The same shape with its parameters refitted to <paramref name="points"/> by maximum likelihood (Nelder–Mead from
    /// the current parameters); null for a table.
    /// </summary>
    public DemandShape? Refit(PricePoint[] points)
    {
        if (table is not null)
        {
            return null;
        }

        double Objective(Vector<double> q)
        {
            var candidate = new DemandShape(Kind, q.ToArray(), null);
            return candidate.Problem() is not null ? 1e300 : -PricePoint.LogLikelihood(points, candidate.Rate);
        }

        var start = Vector<double>.Build.DenseOfArray(parameters);
        var step = start.Map(v => Math.Max(1e-3, Math.Abs(v) * 0.1));
        try
        {
            var result = new NelderMeadSimplex(1e-10, 20_000).FindMinimum(ObjectiveFunction.Value(Objective), start, step);
            return new DemandShape(Kind, result.MinimizingPoint.ToArray(), null);
        }
        catch (MaximumIterationsException)
        {
            return this;
        }
    }

    public override string ToString() => table is not null
        ? string.Create(CultureInfo.InvariantCulture, $"table of {table.Length} prices ({table[0].Price:0.##}–{table[^1].Price:0.##})")
        : Kind + ":" + string.Join(",", Shapes[Kind].Names.Zip(parameters, (n, v) => string.Create(CultureInfo.InvariantCulture, $"{n}={v:0.####}")));

    /// <summary>What is impossible about the parameters, or null.</summary>
    private string? Problem()
    {
        var q = parameters;
        return Kind switch
        {
            "lognormal" when !(q[0] > 0 && q[1] > 0 && q[2] is > 0 and <= 1) => "median and sigma must be positive, reach in (0, 1]",
            "weibull" when !(q[0] > 0 && q[1] > 0 && q[2] is > 0 and <= 1) => "scale and shape must be positive, reach in (0, 1]",
            "exponential" when !(q[1] > 0 && q[0] is > 0 and <= 1) => "scale must be positive, reach in (0, 1]",
            "linear" when !(q[1] > 0 && q[0] is > 0 and <= 1) => "choke must be positive, reach in (0, 1]",
            "segments" when !(q[0] is >= 0 and <= 1 && q[1] > 0 && q[2] > 0 && q[3] > 0 && q[4] > 0 && q[5] is > 0 and <= 1) =>
                "share in [0, 1], medians and sigmas positive, reach in (0, 1]",
            _ => null,
        };
    }

    private static double Logistic(double eta) => 1 / (1 + Math.Exp(-eta));

    private static double LognormalSurvival(double price, double median, double sigma) =>
        1 - Normal.CDF(0, 1, (Math.Log(price) - Math.Log(median)) / sigma);
}
