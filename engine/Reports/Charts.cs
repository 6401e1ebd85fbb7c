using System.Globalization;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;
using ScottPlot;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Reports;

/// <summary>
/// The report's and the notebooks' charts, drawn with ScottPlot as PNG bytes. Every chart has a title, axis labels
/// with units and a legend. Text needs a font: with none installed, <see cref="EnsureFonts"/> says how to add one.
/// </summary>
public static class Charts
{
    public const int Width = 900;
    public const int Height = 480;

    private static readonly Lazy<bool> FontInstalled = new(FindFont);

    /// <exception cref="MissingFontException">No font files under the usual font folders.</exception>
    public static void EnsureFonts()
    {
        if (!FontInstalled.Value)
        {
            throw new MissingFontException(
                "charts need a font and none is installed under /usr/share/fonts: install one (Debian: apt-get install fonts-dejavu-core) and run again");
        }
    }

    private static bool FindFont()
    {
        string[] folders = ["/usr/share/fonts", "/usr/local/share/fonts",
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".fonts")];
        return !OperatingSystem.IsLinux() || folders.Where(Directory.Exists)
            .Any(f => Directory.EnumerateFiles(f, "*.*",
                SearchOption.AllDirectories).Any(x => x.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || x.EndsWith(".otf",
                    StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Conversion rate per variant (dots) with 95% Wilson intervals (bars), by price.</summary>
    public static byte[] ConversionRates(Readout readout, string currency)
    {
        var plot = new Plot();
        var measured = readout.Variants.Where(v => v.ConversionRate is not null && v.ConversionRateCi is not null).ToList();
        var xs = measured.Select(v => (double)v.Price).ToArray();
        var ys = measured.Select(v => v.ConversionRate!.Value * 100).ToArray();
        PointsWithIntervals(plot, xs, ys, [.. measured.Select(v => v.ConversionRateCi!)], "observed conversion rate", "95% interval (Wilson)");
        foreach (var v in measured)
        {
            var label = plot.Add.Text(v.VariantId + (v.VariantId == readout.ControlVariantId ? " (control)" : ""), (double)v.Price,
                v.ConversionRate!.Value * 100);
            label.LabelFontSize = 12;
            label.OffsetX = 8;
        }

        Pad(plot, xs);
        return Render(plot, $"Conversion rate by price — {readout.ExperimentId}", PriceLabel(currency), "Conversion rate (%)", Alignment.UpperRight);
    }

    private static string PriceLabel(string currency) => string.IsNullOrEmpty(currency) ? "Price" : $"Price ({currency})";

    /// <summary>The fitted price-response curve with its 95% band and the observed rates.</summary>
    public static byte[] PriceResponseCurve(PriceResponse fit, IReadOnlyList<VariantStats> variants, string experimentId, string currency)
    {
        var plot = new Plot();
        var curve = fit.Curve(60);
        var xs = curve.Select(p => (double)p.Price).ToArray();
        var band = plot.Add.FillY(xs, curve.Select(p => p.Low * 100).ToArray(), curve.Select(p => p.High * 100).ToArray());
        band.LegendText = "95% band";
        band.FillStyle.Color = Colors.SteelBlue.WithAlpha(0.25);
        var line = plot.Add.Scatter(xs, curve.Select(p => p.Rate * 100).ToArray());
        line.MarkerSize = 0;
        line.LineWidth = 2;
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"log-log fit, elasticity {fit.Slope:0.00}");
        var observed = plot.Add.ScatterPoints(variants.Select(v => (double)v.Price).ToArray(),
            variants.Select(v => v.Users == 0 ? 0 : 100.0 * v.Conversions / v.Users).ToArray());
        observed.MarkerSize = 9;
        observed.LegendText = "observed";
        Pad(plot, xs);
        return Render(plot, $"Price response — {experimentId}", PriceLabel(currency), "Conversion rate (%)", Alignment.UpperRight);
    }

    /// <summary>
    /// Expected goal value per assigned user across the searched prices with its 95% band, the tested prices' observed
    /// values, and the optimum, the recommended price, the best tested price and the control marked.
    /// </summary>
    public static byte[] GoalValueCurve(Recommendation recommendation, IReadOnlyList<(decimal Price, double Value)>? observed = null)
    {
        var plot = new Plot();
        var curve = recommendation.ValueCurve;
        var unit = string.IsNullOrEmpty(recommendation.Currency) ? "currency units" : recommendation.Currency;
        var scale = recommendation.Goal == Pricing.Goal.Conversions ? 100.0 : 1.0;
        var xs = curve.Select(c => (double)c.Price).ToArray();
        var band = plot.Add.FillY(xs, curve.Select(c => c.Lower * scale).ToArray(), curve.Select(c => c.Upper * scale).ToArray());
        band.FillStyle.Color = Colors.SteelBlue.WithAlpha(0.25);
        band.LineStyle.Width = 0;
        band.LegendText = "95% band (bootstrap draws)";
        var line = plot.Add.Scatter(xs, curve.Select(c => c.ExpectedValue * scale).ToArray());
        line.MarkerSize = 0;
        line.LineWidth = 2;
        line.Color = Colors.SteelBlue;
        line.LegendText = $"expected {Json.Wire.Name(recommendation.Goal)} per user (stacked curves)";
        if (observed is { Count: > 0 })
        {
            var dots = plot.Add.ScatterPoints(observed.Select(o => (double)o.Price).ToArray(), observed.Select(o => o.Value * scale).ToArray());
            dots.MarkerSize = 9;
            dots.Color = Colors.Black;
            dots.LegendText = "observed at tested prices";
        }

        void Mark(decimal? price, string text, Color color, LinePattern pattern)
        {
            if (price is null)
            {
                return;
            }

            var mark = plot.Add.VerticalLine((double)price.Value);
            mark.Color = color;
            mark.LinePattern = pattern;
            mark.LineWidth = 2;
            mark.LegendText = string.Create(CultureInfo.InvariantCulture, $"{text} {price:0.00}");
        }

        Mark(recommendation.OptimalPrice, "optimum", Colors.Gray, LinePattern.Dashed);
        Mark(recommendation.RecommendedPrice, recommendation.CharmApplied ? "recommended (charm)" : "recommended", Colors.Green, LinePattern.Solid);
        Mark(recommendation.ControlPrice, "control", Colors.OrangeRed, LinePattern.Dotted);
        if (recommendation.BestTestedPrice != recommendation.RecommendedPrice)
        {
            Mark(recommendation.BestTestedPrice, "best tested", Colors.Purple, LinePattern.DenselyDashed);
        }

        var goal = Json.Wire.Name(recommendation.Goal);
        return Render(plot, $"Expected {goal} by price — {recommendation.ExperimentId}", $"Price ({unit})", recommendation.Goal switch
        {
            Pricing.Goal.Conversions => "Conversion rate (%)",
            _ => $"{char.ToUpperInvariant(goal[0])}{goal[1..]} per assigned user ({unit})",
        }, Alignment.LowerCenter);
    }

    /// <summary>
    /// Events per day (bars) and the running month total against the plan's included events, over
    /// <paramref name="from"/>–<paramref name="to"/> when given (the whole month), else the days with usage.
    /// </summary>
    public static byte[] UsageTrend(IReadOnlyList<(DateOnly Day, long Events)> days, long includedEvents, string tenantName, string plan,
        DateOnly? from = null, DateOnly? to = null)
    {
        var plot = new Plot();
        static double Noon(DateOnly day) => day.ToDateTime(new TimeOnly(12, 0)).ToOADate();
        var xs = days.Select(d => Noon(d.Day)).ToArray();
        var running = 0L;
        var cumulative = days.Select(d => (double)(running += d.Events)).ToArray();
        var daily = plot.Add.Bars(xs, days.Select(d => (double)d.Events).ToArray());
        daily.LegendText = "events per day";
        foreach (var bar in daily.Bars)
        {
            bar.Size = 0.8;
        }

        var total = plot.Add.Scatter(xs, cumulative);
        total.LegendText = "events so far this month";
        total.LineWidth = 2;
        total.MarkerSize = 6;
        var peak = cumulative.DefaultIfEmpty(0).Max();
        var limitText = string.Create(CultureInfo.InvariantCulture, $"{plan} plan: {includedEvents:N0} included events");
        var limitVisible = includedEvents <= Math.Max(1, peak) * 20;
        if (limitVisible)
        {
            var limit = plot.Add.HorizontalLine(includedEvents);
            limit.LegendText = limitText;
            limit.LinePattern = LinePattern.Dashed;
            limit.Color = Colors.OrangeRed;
        }
        else
        {
            // A limit far above the usage would flatten the bars to nothing; name it instead of drawing it.
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = limitText + string.Create(CultureInfo.InvariantCulture, $" ({100.0 * peak / includedEvents:0.0}% used; off the chart)"),
                LineColor = Colors.OrangeRed,
                LinePattern = LinePattern.Dashed,
                LineWidth = 2,
            });
        }

        plot.Axes.DateTimeTicksBottom();
        plot.Axes.SetLimitsY(0, Math.Max(1, limitVisible ? Math.Max(includedEvents, peak) : peak) * 1.15);
        var first = from ?? days.Select(d => d.Day).DefaultIfEmpty(DateOnly.FromDateTime(DateTime.UtcNow)).Min();
        var last = to ?? days.Select(d => d.Day).DefaultIfEmpty(first).Max();
        plot.Axes.SetLimitsX(first.ToDateTime(TimeOnly.MinValue).ToOADate(), last.AddDays(1).ToDateTime(TimeOnly.MinValue).ToOADate());
        return Render(plot, $"Usage — {tenantName}", "Day (UTC)", "Events", Alignment.UpperLeft);
    }

    /// <summary>Lift of each variant's conversion rate over the control, with its 95% interval, by price.</summary>
    public static byte[] Lift(Readout readout, string currency)
    {
        var plot = new Plot();
        var compared = readout.Variants.Where(v => v.Lift is not null && v.LiftCi is not null).ToList();
        var xs = compared.Select(v => (double)v.Price).ToArray();
        PointsWithIntervals(plot, xs, [.. compared.Select(v => v.Lift!.Value * 100)], [.. compared.Select(v => v.LiftCi!)],
            $"lift over the control ({readout.ControlVariantId})", "95% interval (delta method)");
        var zero = plot.Add.HorizontalLine(0);
        zero.Color = Colors.Gray;
        zero.LinePattern = LinePattern.Dashed;
        zero.LegendText = "no change";
        Pad(plot, xs);
        return Render(plot, $"Lift in conversion rate — {readout.ExperimentId}", PriceLabel(currency), "Lift over control (%)", Alignment.UpperRight);
    }

    /// <summary>
    /// An adaptive experiment's weights over time: each price's share of new users, a step per weight version, from the
    /// first assign (<paramref name="start"/>: the burn-in's equal split) to <paramref name="end"/>.
    /// </summary>
    public static byte[] AllocationWeights(Readout readout, DateTimeOffset start, DateTimeOffset end, string currency)
    {
        var plot = new Plot();
        var periods = readout.AllocationPeriods ?? [];
        // Period 0 (the burn-in) has no version start: it begins with the first assign.
        var starts = periods.Select(p => p.StartsAt ?? start).ToList();
        var last = end > starts[^1] ? end : starts[^1].AddHours(1);
        foreach (var variant in readout.Variants)
        {
            var xs = starts.Select(t => t.UtcDateTime.ToOADate()).Append(last.UtcDateTime.ToOADate()).ToArray();
            var ys = periods.Select(p => p.Weights.GetValueOrDefault(variant.VariantId) * 100).ToList();
            var line = plot.Add.Scatter(xs, [.. ys, ys[^1]]);
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.LineWidth = 2;
            line.MarkerSize = 0;
            line.LegendText = string.Create(CultureInfo.InvariantCulture, $"{variant.VariantId} ({variant.Price:0.##}{(string.IsNullOrEmpty(currency) ? "" : " " + currency)})");
        }

        plot.Axes.DateTimeTicksBottom();
        plot.Axes.SetLimitsY(0, 100);
        return Render(plot, $"Share of new users by weight version — {readout.ExperimentId}", "Time (UTC)", "Share of new users (%)", Alignment.UpperRight);
    }

    /// <summary>Reliability diagram: mean predicted against observed conversion rate per bin, for each model, with the diagonal.</summary>
    public static byte[] Calibration(IReadOnlyList<ModelEvaluation> evaluations, string experimentId)
    {
        var plot = new Plot();
        var max = evaluations.SelectMany(e => e.Calibration).Select(b => Math.Max(b.MeanPredicted, b.ObservedRate) * 100).DefaultIfEmpty(1).Max() * 1.1;
        var diagonal = plot.Add.Line(0, 0, max, max);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.Color = Colors.Gray;
        diagonal.LegendText = "perfect calibration";
        foreach (var e in evaluations)
        {
            var points = plot.Add.Scatter(e.Calibration.Select(b => b.MeanPredicted * 100).ToArray(),
                e.Calibration.Select(b => b.ObservedRate * 100).ToArray());
            points.MarkerSize = 8;
            points.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"{e.Model} (log-loss {e.LogLoss:0.0000}, calibration error {e.CalibrationError * 100:0.00} pts)");
        }

        plot.Axes.SetLimits(0, max, 0, max);
        return Render(plot, $"Calibration on held-out users — {experimentId}", "Predicted conversion rate (%)", "Observed conversion rate (%)",
            Alignment.UpperLeft);
    }

    /// <summary>Dots at <paramref name="ys"/> (percent) with error bars spanning each interval (fractions, drawn as percent).</summary>
    private static void PointsWithIntervals(Plot plot, double[] xs, double[] ys, IReadOnlyList<double[]> intervals, string pointsLabel, string intervalsLabel)
    {
        var bars = plot.Add.ErrorBar(xs, [.. intervals.Select(ci => (ci[0] + ci[1]) * 50)], [.. intervals.Select(ci => (ci[1] - ci[0]) * 50)]);
        bars.LegendText = intervalsLabel;
        var dots = plot.Add.ScatterPoints(xs, ys);
        dots.MarkerSize = 10;
        dots.LegendText = pointsLabel;
    }

    /// <summary>Title, axis labels and legend, then the PNG.</summary>
    private static byte[] Render(Plot plot, string title, string xLabel, string yLabel, Alignment legend)
    {
        EnsureFonts(); // text is drawn here, and needs a font
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(legend);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static void Pad(Plot plot, double[] xs)
    {
        if (xs.Length == 0)
        {
            return;
        }

        var span = Math.Max(1, xs.Max() - xs.Min());
        plot.Axes.SetLimitsX(xs.Min() - (span * 0.1), xs.Max() + (span * 0.2));
    }
}

/// <summary>Charts cannot be drawn: the machine has no font for their text (the message says how to install one).</summary>
public sealed class MissingFontException(string message) : InvalidOperationException(message);
