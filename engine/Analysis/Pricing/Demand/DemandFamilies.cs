namespace PricingOptimizer.Pricing.Demand;

/// <summary>The families a recommendation stacks: each can place a revenue optimum inside the tested range.</summary>
public static class DemandFamilies
{
    public static IReadOnlyList<IDemandFamily> Default { get; } =
    [
        new GlmFamily("logit-price", Link.Logit, logPrice: false, "a logistic curve in price"),
        new GlmFamily("logit-log-price", Link.Logit, logPrice: true, "a logistic curve in log price"),
        new GlmFamily("lognormal-wtp", Link.Probit, logPrice: true, "a lognormal willingness-to-pay curve"),
        new GlmFamily("weibull-wtp", Link.LogLog, logPrice: true, "a Weibull willingness-to-pay curve"),
        new GlmFamily("exponential", Link.Log, logPrice: false, "exponential demand in price"),
        new GlmFamily("linear", Link.Identity, logPrice: false, "linear demand in price"),
        new ReachFamily("reach-logistic-wtp", Link.Logit, "a log-logistic willingness to pay with a reach below 1"),
        new ReachFamily("reach-lognormal-wtp", Link.Probit, "a lognormal willingness to pay with a reach below 1"),
        new ReachFamily("reach-weibull-wtp", Link.LogLog, "a Weibull willingness to pay with a reach below 1"),
        new IsotonicFamily(),
    ];
}
