using MathNet.Numerics;

namespace PricingOptimizer.Statistics;

/// <summary>Exact comparisons of two Beta-distributed rates (closed forms, no Monte Carlo).</summary>
public static class BetaComparison
{
    /// <summary>P(X &gt; Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2), with integer a1 (a sum of a1 terms).</summary>
    public static double ProbabilityGreater(double a1, double b1, double a2, double b2)
    {
        var total = 0.0;
        var constant = -SpecialFunctions.BetaLn(a2, b2);
        for (var i = 0; i < (int)a1; i++)
        {
            total += Math.Exp(SpecialFunctions.BetaLn(a2 + i, b1 + b2) - Math.Log(b1 + i) - SpecialFunctions.BetaLn(1 + i, b1) + constant);
        }

        return Math.Clamp(total, 0, 1);
    }

    /// <summary>E[max(Y − X, 0)]: what is lost, in rate, by choosing X when Y is better.</summary>
    public static double ExpectedLoss(double aX, double bX, double aY, double bY)
    {
        // E[(Y − X) 1{Y > X}] = E[Y] P(Y' > X) − E[X] P(Y > X'), Y' ~ Beta(aY + 1, bY), X' ~ Beta(aX + 1, bX).
        var meanY = aY / (aY + bY);
        var meanX = aX / (aX + bX);
        var loss = (meanY * ProbabilityGreater(aY + 1, bY, aX, bX)) - (meanX * ProbabilityGreater(aY, bY, aX + 1, bX));
        return Math.Max(0, loss);
    }
}
