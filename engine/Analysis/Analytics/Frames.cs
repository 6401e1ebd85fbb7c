using Microsoft.Data.Analysis;
using PricingOptimizer.Lake;
using PricingOptimizer.Pricing;
using PricingOptimizer.Statistics;
using PricingOptimizer.Usage;

namespace PricingOptimizer.Analytics;

/// <summary>
/// The engine's results as <c>Microsoft.Data.Analysis</c> DataFrames, one row per variant, event, day or point, with
/// the API's snake_case names for columns, so notebooks can filter, group and join them. Intervals become two columns
/// (<c>_low</c>, <c>_high</c>); a missing figure is a null cell; dates are UTC <see cref="DateTime"/>s.
/// </summary>
public static class Frames
{
    /// <summary>
    /// Events (each event_id once) as read from the lake, one row each: <c>revenue</c> is what a convert counts (its
    /// revenue, else its price; null on assigns), <c>revenue_given</c> whether the event carried a revenue of its own.
    /// </summary>
    public static DataFrame ToDataFrame(this IEnumerable<StoredEvent> events) => new Columns<StoredEvent>(events)
        .Text("event_id", e => e.Event.EventId)
        .Text("event_type", e => e.Event.Type.ToString().ToLowerInvariant())
        .Text("experiment_id", e => e.Event.ExperimentId)
        .Text("variant_id", e => e.Event.VariantId)
        .Text("user_id", e => e.Event.UserId)
        .Money("price", e => e.Event.Price)
        .Money("revenue", e => e.Event.Type == Events.EventType.Convert ? e.Event.EffectiveRevenue : null)
        .Flag("revenue_given", e => e.Event.Revenue is not null)
        .Text("currency", e => e.Event.Currency)
        .Time("occurred_at", e => e.Event.OccurredAt.UtcDateTime)
        .Time("event_date", e => e.EventDate.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc))
        .Frame();

    /// <summary>The readout, one row per variant: counts, rates, lifts and their intervals, p-values, revenue figures.</summary>
    public static DataFrame ToDataFrame(this Readout readout) => new Columns<VariantReadout>(readout.Variants.OrderBy(v => v.Price))
        .Text("variant_id", v => v.VariantId)
        .Flag("control", v => v.VariantId == readout.ControlVariantId)
        .Money("price", v => v.Price)
        .Count("users", v => v.Users)
        .Count("conversions", v => v.Conversions)
        .Number("conversion_rate", v => v.ConversionRate)
        .Interval("conversion_rate", v => v.ConversionRateCi)
        .Money("revenue", v => v.Revenue)
        .Number("revenue_per_user", v => v.RevenuePerUser)
        .Number("lift", v => v.Lift)
        .Interval("lift", v => v.LiftCi)
        .Number("p_value_holm", v => v.PValueAdjusted)
        .Number("sequential_p_value", v => v.SequentialPValue)
        .Number("chance_to_beat_control", v => v.ChanceToBeatControl)
        .Number("revenue_lift", v => v.RevenueLift)
        .Interval("revenue_lift", v => v.RevenueLiftCi)
        .Number("revenue_lift_cuped", v => v.RevenueLiftCuped)
        .Number("p_value_bh", v => v.PValueAdjustedBh)
        .Number("revenue_p_value_bh", v => v.RevenuePValueAdjustedBh)
        .Interval("difference_cs", v => v.DifferenceCs)
        .Interval("revenue_difference_cs", v => v.RevenueDifferenceCs)
        .Frame();

    /// <summary>Per-variant sufficient statistics (users, buyers, revenue) as the readout and recommendation read them.</summary>
    public static DataFrame ToDataFrame(this IEnumerable<VariantStats> stats) => new Columns<VariantStats>(stats.OrderBy(v => v.Price))
        .Text("variant_id", v => v.VariantId)
        .Money("price", v => v.Price)
        .Count("users", v => v.Users)
        .Count("conversions", v => v.Conversions)
        .Money("revenue", v => v.Revenue)
        .Number("conversion_rate", v => v.Users == 0 ? null : (double)v.Conversions / v.Users)
        .Number("revenue_per_user", v => v.Users == 0 ? null : (double)v.Revenue / v.Users)
        .Frame();

    /// <summary>The recommendation's goal-value curve: expected value per assigned user by price with its 95% band.</summary>
    public static DataFrame ValueCurveFrame(this Recommendation recommendation) => new Columns<ValuePoint>(recommendation.ValueCurve)
        .Money("price", p => p.Price)
        .Number("expected_value", p => p.ExpectedValue)
        .Number("lower", p => p.Lower)
        .Number("upper", p => p.Upper)
        .Number("observed_value", p => p.ObservedValue)
        .Frame();

    /// <summary>The recommendation's revenue-per-buyer families, heaviest first (empty for the conversions goal).</summary>
    public static DataFrame RevenueModelsFrame(this Recommendation recommendation) =>
        new Columns<Pricing.Buyers.BuyerModelScore>(recommendation.RevenueModels.OrderByDescending(m => m.Weight))
            .Text("name", m => m.Name)
            .Number("weight", m => m.Weight)
            .Number("held_out_error", m => m.HeldOutError)
            .Flag("fits_data", m => m.FitsData)
            .Frame();

    /// <summary>The recommendation's demand families: stacking weight, held-out log-loss, whether each fits the data.</summary>
    public static DataFrame ModelsFrame(this Recommendation recommendation)
        => new Columns<Pricing.Demand.ModelScore>(recommendation.Models.OrderByDescending(m => m.Weight))
        .Text("name", m => m.Name)
        .Number("weight", m => m.Weight)
        .Number("held_out_log_loss", m => m.HeldOutLogLoss)
        .Flag("fits_data", m => m.FitsData)
        .Frame();

    /// <summary>Recommendations side by side (e.g. one per goal): one row each with its prices, values and confidence.</summary>
    public static DataFrame ToDataFrame(this IEnumerable<Recommendation> recommendations) => new Columns<Recommendation>(recommendations)
        .Text("experiment_id", r => r.ExperimentId)
        .Text("goal", r => Json.Wire.Name(r.Goal))
        .Text("status", r => r.Status)
        .Money("optimal_price", r => r.OptimalPrice)
        .Money("recommended_price", r => r.RecommendedPrice)
        .Flag("charm_applied", r => r.CharmApplied)
        .Number("expected_value", r => r.ExpectedValue)
        .Interval("expected_value", r => r.ExpectedValueCi)
        .Money("control_price", r => r.ControlPrice)
        .Number("control_expected_value", r => r.ControlExpectedValue)
        .Money("best_tested_price", r => r.BestTestedPrice)
        .Number("best_tested_expected_value", r => r.BestTestedExpectedValue)
        .Number("confidence", r => r.Confidence)
        .Flag("extrapolated", r => r.Extrapolated)
        .Frame();

    /// <summary>The dashboard, one row per experiment and variant (experiment-level columns repeat on each of its rows).</summary>
    public static DataFrame ToDataFrame(this Dashboard dashboard) =>
        new Columns<(DashboardExperiment Experiment, DashboardVariant Variant)>(dashboard.Experiments.SelectMany(e => e.Variants.Select(v => (e, v))))
            .Text("experiment_id", r => r.Experiment.ExperimentId)
            .Text("status", r => Json.Wire.Name(r.Experiment.Status))
            .Time("start_date", r => r.Experiment.StartDate?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc))
            .Count("days_running", r => r.Experiment.DaysRunning)
            .Text("variant_id", r => r.Variant.VariantId)
            .Flag("control", r => r.Variant.VariantId == r.Experiment.ControlVariantId)
            .Flag("leading", r => r.Variant.VariantId == r.Experiment.LeadingVariantId)
            .Money("price", r => r.Variant.Price)
            .Count("users", r => r.Variant.Users)
            .Count("conversions", r => r.Variant.Conversions)
            .Number("conversion_rate", r => r.Variant.ConversionRate)
            .Number("revenue_per_user", r => r.Variant.RevenuePerUser)
            .Flag("sample_ratio_mismatch", r => r.Experiment.Health.SampleRatioMismatch)
            .Count("users_still_needed", r => r.Experiment.UsersStillNeeded)
            .Frame();

    /// <summary>The timeseries, one row per day and variant: cumulative users, the metric, the lift and its intervals.</summary>
    public static DataFrame ToDataFrame(this Timeseries series) =>
        new Columns<(DateOnly Date, TimeseriesPoint Point)>(series.Days.SelectMany(d => d.Variants.Select(p => (d.Date, p))))
            .Time("date", r => r.Date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc))
            .Text("variant_id", r => r.Point.VariantId)
            .Count("users", r => r.Point.Users)
            .Number(series.Metric, r => r.Point.Value)
            .Number("lift", r => r.Point.Lift)
            .Interval("lift", r => r.Point.LiftCi)
            .Interval("difference_cs", r => r.Point.DifferenceCs)
            .Frame();

    /// <summary>Usage by day: events, and (from the control plane) API calls and the busiest minute.</summary>
    public static DataFrame ToDataFrame(this IEnumerable<UsageDay> days) => new Columns<UsageDay>(days)
        .Time("date", d => d.Date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc))
        .Count("events", d => d.Events)
        .Count("api_calls", d => d.ApiCalls)
        .Count("peak_requests_per_minute", d => d.PeakRequestsPerMinute)
        .Frame();

    /// <summary>Events per day as the lake counts them (each event_id once).</summary>
    public static DataFrame ToDataFrame(this IEnumerable<(DateOnly Day, long Events)> days) => new Columns<(DateOnly Day, long Events)>(days)
        .Time("date", d => d.Day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc))
        .Count("events", d => d.Events)
        .Frame();

    /// <summary>Builds a frame column by column from rows.</summary>
    private sealed class Columns<T>(IEnumerable<T> rows)
    {
        private readonly IReadOnlyList<T> rows = [.. rows];
        private readonly List<DataFrameColumn> columns = [];

        public Columns<T> Text(string name, Func<T, string?> value) => Add(new StringDataFrameColumn(name, rows.Select(value)));

        public Columns<T> Number(string name, Func<T, double?> value) => Add(new DoubleDataFrameColumn(name, rows.Select(value)));

        public Columns<T> Count(string name, Func<T, long?> value) => Add(new Int64DataFrameColumn(name, rows.Select(value)));

        public Columns<T> Money(string name, Func<T, decimal?> value) => Add(new DecimalDataFrameColumn(name, rows.Select(value)));

        public Columns<T> Flag(string name, Func<T, bool?> value) => Add(new BooleanDataFrameColumn(name, rows.Select(value)));

        public Columns<T> Time(string name, Func<T, DateTime?> value) => Add(new DateTimeDataFrameColumn(name, rows.Select(value)));

        /// <summary>An interval as two columns, <c>{name}_low</c> and <c>{name}_high</c>.</summary>
        public Columns<T> Interval(string name, Func<T, double[]?> value) =>
            Number(name + "_low", r => value(r)?[0]).Number(name + "_high", r => value(r)?[1]);

        public DataFrame Frame() => new(columns);

        private Columns<T> Add(DataFrameColumn column)
        {
            columns.Add(column);
            return this;
        }
    }
}
