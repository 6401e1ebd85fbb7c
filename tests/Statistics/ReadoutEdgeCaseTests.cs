using System.Text.Json;
using PricingOptimizer.Statistics;
using PricingOptimizer.Lake;

namespace PricingOptimizer.Tests.Statistics;

/// <summary>Awkward data gets a clear answer: numbers where they are defined, null (and a note) where not; never NaN, never a crash.</summary>
public sealed class ReadoutEdgeCaseTests
{
    private static VariantStats V(string id, decimal price, long users, long conversions) =>
        new(id, price, users, conversions, conversions * price, (double)(conversions * price * price));

    private static JsonElement Json(Readout readout)
    {
        var text = JsonSerializer.Serialize(readout, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        Assert.DoesNotContain("NaN", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", text, StringComparison.Ordinal);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static JsonElement Variant(JsonElement readout, string id) =>
        readout.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("variant_id").GetString() == id);

    [Fact]
    public void A_variant_without_conversions_has_rate_zero_and_a_defined_comparison()
    {
        var r = Json(ReadoutCalculator.Compute("t", "e", [V("control", 10, 500, 40), V("b", 12, 480, 0)], 0, null, null));
        var b = Variant(r, "b");
        Assert.Equal(0.0, b.GetProperty("conversion_rate").GetDouble());
        Assert.Equal(0.0, b.GetProperty("conversion_rate_ci")[0].GetDouble());
        Assert.Equal(-1.0, b.GetProperty("lift").GetDouble());
        Assert.True(b.GetProperty("p_value").GetDouble() < 1e-6);
        Assert.True(b.GetProperty("chance_to_beat_control").GetDouble() < 1e-6);
    }

    [Fact]
    public void A_control_without_conversions_leaves_lift_undefined_with_a_note()
    {
        var r = Json(ReadoutCalculator.Compute("t", "e", [V("control", 10, 300, 0), V("b", 8, 310, 5)], 0, null, null));
        var b = Variant(r, "b");
        Assert.Equal(JsonValueKind.Null, b.GetProperty("lift").ValueKind);
        Assert.Equal(JsonValueKind.Null, b.GetProperty("lift_ci").ValueKind);
        Assert.True(b.GetProperty("chance_to_beat_control").GetDouble() > 0.95);
        Assert.Contains(r.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("no conversions", StringComparison.Ordinal));
    }

    [Fact]
    public void Everyone_converting_is_rate_one_with_an_interval_below_one()
    {
        var r = Json(ReadoutCalculator.Compute("t", "e", [V("control", 10, 50, 50), V("b", 12, 50, 50)], 0, null, null));
        var b = Variant(r, "b");
        Assert.Equal(1.0, b.GetProperty("conversion_rate").GetDouble());
        Assert.True(b.GetProperty("conversion_rate_ci")[0].GetDouble() < 1);
        Assert.Equal(0.0, b.GetProperty("lift").GetDouble());
        Assert.Equal(1.0, b.GetProperty("p_value").GetDouble());
    }

    [Fact]
    public void A_single_user_and_a_single_variant_are_described_not_compared()
    {
        var r = Json(ReadoutCalculator.Compute("t", "e", [V("control", 10, 1, 1)], 0, null, null));
        Assert.Equal(1, r.GetProperty("variants").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("srm_p_value").ValueKind);
        Assert.Contains(r.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("only one variant", StringComparison.Ordinal));

        var two = Json(ReadoutCalculator.Compute("t", "e", [V("control", 10, 1, 0), V("b", 9, 1, 1)], 0, null, null));
        Assert.Equal(JsonValueKind.Null, Variant(two, "b").GetProperty("revenue_per_user_p_value").ValueKind);
    }

    [Fact]
    public void No_data_is_an_empty_readout_that_says_so()
    {
        var r = Json(ReadoutCalculator.Compute("t", "e", [], 3, null, null));
        Assert.Equal(0, r.GetProperty("variants").GetArrayLength());
        Assert.Equal(3, r.GetProperty("multiple_exposure_users").GetInt64());
        Assert.NotEmpty(r.GetProperty("notes").EnumerateArray());
    }

    [Fact]
    public void An_unknown_control_is_refused_naming_the_variants()
    {
        var error = Assert.Throws<ArgumentException>(() => ReadoutCalculator.Compute("t", "e", [V("a", 1, 10, 1), V("b", 2, 10, 1)], 0, "zzz", null));
        Assert.Contains("a, b", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Holm_adjusts_in_step_down_order_and_keeps_monotone()
    {
        var adjusted = ReadoutCalculator.Holm([0.01, 0.04, 0.03, null]);
        Assert.Equal(0.03, adjusted[0]!.Value, 12);
        Assert.Equal(0.06, adjusted[1]!.Value, 12);
        Assert.Equal(0.06, adjusted[2]!.Value, 12);
        Assert.Null(adjusted[3]);
    }

    [Fact]
    public void The_exact_beta_comparison_stays_accurate_for_hundreds_of_thousands_of_conversions()
    {
        // With counts this large both posteriors are close to normal, so the normal approximation is a fair check.
        double a1 = 375_001, b1 = 1_750_001, a2 = 374_001, b2 = 1_751_001;
        static (double Mean, double Variance) Moments(double a, double b) => (a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1)));
        var (m1, v1) = Moments(a1, b1);
        var (m2, v2) = Moments(a2, b2);
        var approximate = MathNet.Numerics.Distributions.Normal.CDF(0, 1, (m1 - m2) / Math.Sqrt(v1 + v2));
        Assert.Equal(approximate, BetaComparison.ProbabilityGreater(a1, b1, a2, b2), 3);
    }

    [Fact]
    public void The_exact_beta_comparison_agrees_with_a_large_monte_carlo()
    {
        var random = new Random(7);
        var a = new MathNet.Numerics.Distributions.Beta(31, 171, random);
        var b = new MathNet.Numerics.Distributions.Beta(21, 181, random);
        const int draws = 400_000;
        var wins = 0;
        var loss = 0.0;
        for (var i = 0; i < draws; i++)
        {
            var x = a.Sample();
            var y = b.Sample();
            wins += x > y ? 1 : 0;
            loss += Math.Max(y - x, 0);
        }

        Assert.Equal((double)wins / draws, BetaComparison.ProbabilityGreater(31, 171, 21, 181), 2);
        Assert.Equal(loss / draws, BetaComparison.ExpectedLoss(31, 171, 21, 181), 4);
    }
}
