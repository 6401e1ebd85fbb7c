namespace PricingOptimizer.Statistics;

/// <summary>
/// Always-valid inference by the mixture sequential probability ratio test (mSPRT, Johari et al., "Always Valid
/// Inference"): with a normal mixture N(0, τ²) over the difference in conversion rates, the likelihood ratio
/// Λ = sqrt(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²))) and p = min(1, 1/Λ) is a p-value that stays valid however
/// often it is looked at. Using the current look alone (rather than the running minimum over past looks) is
/// conservative, so it can be read on any day without inflating false positives.
/// </summary>
public static class Sequential
{
    /// <summary>The mixing scale relative to the pooled rate: effects of about ±10% relative lift are where the test is most sensitive.</summary>
    public const double RelativeMixingScale = 0.1;

    public static double? PValue(long usersV, long conversionsV, long usersC, long conversionsC)
    {
        if (usersV == 0 || usersC == 0)
        {
            return null;
        }

        var rv = (double)conversionsV / usersV;
        var rc = (double)conversionsC / usersC;
        var variance = (rv * (1 - rv) / usersV) + (rc * (1 - rc) / usersC);
        var pooled = (double)(conversionsV + conversionsC) / (usersV + usersC);
        var tau2 = Math.Pow(Math.Max(RelativeMixingScale * pooled, 1e-4), 2);
        if (variance <= 0)
        {
            return rv == rc ? 1.0 : 0.0;
        }

        var theta = rv - rc;
        var logLambda = (0.5 * Math.Log(variance / (variance + tau2))) + (tau2 * theta * theta / (2 * variance * (variance + tau2)));
        return Math.Min(1.0, Math.Exp(-logLambda));
    }
}
