using System.Text.Json.Serialization;

namespace PricingOptimizer.Pricing;

/// <summary>One bin of a reliability table: users whose predicted probability fell in [Low, High].</summary>
public sealed record CalibrationBin(
    [property: JsonPropertyName("predicted_low")] double PredictedLow,
    [property: JsonPropertyName("predicted_high")] double PredictedHigh,
    [property: JsonPropertyName("users")] long Users,
    [property: JsonPropertyName("mean_predicted")] double MeanPredicted,
    [property: JsonPropertyName("observed_rate")] double ObservedRate);

/// <summary>How well a demand model predicts who buys, on users it was not trained on.</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Users">Users evaluated.</param>
/// <param name="Conversions">Of them, buyers.</param>
/// <param name="LogLoss">Mean negative log-likelihood in nats (lower is better).</param>
/// <param name="Auc">Area under the ROC curve (ties count half); null when every user bought or none did.</param>
/// <param name="CalibrationError">Expected calibration error: the user-weighted mean gap between predicted and observed rate over the bins.</param>
/// <param name="Calibration">The reliability table: bins of about equal size by predicted probability.</param>
public sealed record ModelEvaluation(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("users")] long Users,
    [property: JsonPropertyName("conversions")] long Conversions,
    [property: JsonPropertyName("log_loss")] double LogLoss,
    [property: JsonPropertyName("auc")] double? Auc,
    [property: JsonPropertyName("calibration_error")] double CalibrationError,
    [property: JsonPropertyName("calibration")] IReadOnlyList<CalibrationBin> Calibration);

public static class ModelMetrics
{
    private const double Clip = 1e-12;

    /// <summary>Log-loss, AUC and a reliability table of <paramref name="predicted"/> probabilities against <paramref name="labels"/>.</summary>
    public static ModelEvaluation Evaluate(string model, IReadOnlyList<bool> labels, IReadOnlyList<double> predicted, int bins = 10)
    {
        if (labels.Count != predicted.Count)
        {
            throw new ArgumentException("one prediction per label", nameof(predicted));
        }

        var n = labels.Count;
        if (n == 0)
        {
            return new ModelEvaluation(model, 0, 0, double.NaN, null, double.NaN, []);
        }

        var logLoss = 0.0;
        for (var i = 0; i < n; i++)
        {
            var p = Math.Clamp(predicted[i], Clip, 1 - Clip);
            logLoss -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }

        var order = Enumerable.Range(0, n).OrderBy(i => predicted[i]).ToArray();
        var calibration = Reliability(labels, predicted, order, bins);
        var ece = calibration.Sum(b => b.Users * Math.Abs(b.MeanPredicted - b.ObservedRate)) / n;
        return new ModelEvaluation(model, n, labels.LongCount(l => l), logLoss / n, Auc(labels, predicted, order), ece, calibration);
    }

    /// <summary>Mann–Whitney AUC with average ranks for tied predictions.</summary>
    private static double? Auc(IReadOnlyList<bool> labels, IReadOnlyList<double> predicted, int[] order)
    {
        long positives = labels.LongCount(l => l), negatives = labels.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return null;
        }

        var rankSum = 0.0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && predicted[order[end + 1]] == predicted[order[start]])
            {
                end++;
            }

            var averageRank = ((start + end) / 2.0) + 1;
            for (var k = start; k <= end; k++)
            {
                if (labels[order[k]])
                {
                    rankSum += averageRank;
                }
            }

            start = end + 1;
        }

        return (rankSum - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }

    /// <summary>Up to <paramref name="bins"/> bins of about equal size over the sorted predictions; equal predictions never split.</summary>
    private static List<CalibrationBin> Reliability(IReadOnlyList<bool> labels, IReadOnlyList<double> predicted, int[] order, int bins)
    {
        var result = new List<CalibrationBin>();
        var target = Math.Max(1, (int)Math.Ceiling(order.Length / (double)bins));
        for (var start = 0; start < order.Length;)
        {
            var end = Math.Min(order.Length, start + target);
            while (end < order.Length && predicted[order[end]] == predicted[order[end - 1]])
            {
                end++;
            }

            long count = end - start, buyers = 0;
            var sum = 0.0;
            for (var k = start; k < end; k++)
            {
                sum += predicted[order[k]];
                buyers += labels[order[k]] ? 1 : 0;
            }

            result.Add(new CalibrationBin(predicted[order[start]], predicted[order[end - 1]], count, sum / count, (double)buyers / count));
            start = end;
        }

        return result;
    }
}
