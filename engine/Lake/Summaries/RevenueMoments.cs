namespace PricingOptimizer.Lake;

/// <summary>
/// One variant's revenue moments over its counted users: Y is the user's revenue in the experiment (capped when the
/// readout caps), X the user's pre-period revenue (CUPED's covariate). Variances and the covariance are sample ones (n − 1).
/// </summary>
public sealed record VariantMoments(string VariantId, long Users, double MeanY, double VarianceY, double MeanX, double VarianceX, double CovarianceXY,
    long UsersWithPrior);

/// <summary>The revenue moments of every variant, and the cap applied to Y (null when uncapped).</summary>
public sealed record RevenueMoments(double? Cap, IReadOnlyList<VariantMoments> Variants);
