using MathNet.Numerics;

namespace PricingOptimizer.Statistics;

/// <summary>Exact comparisons of two Beta-distributed rates (closed forms, no Monte Carlo).</summary>
public static class BetaComparison
{
    /// <summary>P(X &gt; Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2), with integer a1 (a sum of a1 terms).</summary>
    /// <remarks>
    /// term_i = B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2)); successive terms differ by the factor
    /// (a2 + i)(b1 + i) / ((a2 + b1 + b2 + i)(1 + i)), so the sum takes one log-gamma evaluation, not one per term, and
    /// is accumulated in log space (terms span hundreds of orders of magnitude when the counts are large).
    /// </remarks>
    public static double ProbabilityGreater(double a1, double b1, double a2, double b2)
    {
        var terms = (int)a1;
        var logTerm = SpecialFunctions.BetaLn(a2, b1 + b2) - Math.Log(b1) - SpecialFunctions.BetaLn(1, b1) - SpecialFunctions.BetaLn(a2, b2);
        var logTotal = double.NegativeInfinity;
        for (var i = 0; i < terms; i++)
        {
            logTotal = LogAdd(logTotal, logTerm);
            logTerm += Math.Log((a2 + i) * (b1 + i) / ((a2 + b1 + b2 + i) * (1.0 + i)));
        }

        return Math.Clamp(Math.Exp(logTotal), 0, 1);
    }

    private static double LogAdd(double x, double y)
    {
        if (double.IsNegativeInfinity(x))
        {
            return y;
        }

        return x > y ? x + Math.Log(1 + Math.Exp(y - x)) : y + Math.Log(1 + Math.Exp(x - y));
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
