namespace Faultline.Tests.Queueing;

/// <summary>Mean waits of the textbook multi-server queues the validation tests compare the simulator against.</summary>
internal static class QueueingTheory
{
    /// <summary>M/M/c: Erlang C's probability of waiting over the spare service rate.</summary>
    public static double MmcWait(double lambda, double service, int c)
    {
        double a = lambda * service, rho = a / c;
        double term = 1, sum = 0; // a^k / k!
        for (int k = 0; k < c; k++)
        {
            sum += term;
            term *= a / (k + 1);
        }
        double tail = term / (1 - rho);
        double erlangC = tail / (sum + tail);
        return erlangC * service / (c - a);
    }

    /// <summary>
    /// M/D/c, exact (Crommelin): the number in system at instants a service time D apart is a Markov chain,
    /// Q' = max(Q − c, 0) + A with A ~ Poisson(λD); its stationary law is the law at any instant, the mean
    /// number waiting is E[max(Q − c, 0)], and Little gives the mean wait.
    /// </summary>
    public static double MdcWait(double lambda, double service, int c, int states = 2000)
    {
        double m = lambda * service;
        var arrivals = new double[states];
        arrivals[0] = Math.Exp(-m);
        for (int k = 1; k < states; k++) arrivals[k] = arrivals[k - 1] * m / k;
        var p = new double[states];
        p[0] = 1;
        for (int iteration = 0; iteration < 100_000; iteration++)
        {
            var next = new double[states];
            for (int q = 0; q < states; q++)
            {
                if (p[q] == 0) continue;
                int left = Math.Max(q - c, 0);
                for (int k = 0; left + k < states; k++) next[left + k] += p[q] * arrivals[k];
            }
            double total = next.Sum(), change = 0;
            for (int q = 0; q < states; q++)
            {
                next[q] /= total;
                change += Math.Abs(next[q] - p[q]);
            }
            p = next;
            if (change < 1e-13) break;
        }
        double waiting = 0;
        for (int q = c + 1; q < states; q++) waiting += (q - c) * p[q];
        return waiting / lambda;
    }

    /// <summary>Mean and half-width of the two-sided confidence interval of replications' means (Student's t).</summary>
    public static (double Mean, double HalfWidth) Interval(IReadOnlyList<double> replications, double t)
    {
        int n = replications.Count;
        double mean = replications.Average();
        double variance = replications.Sum(x => (x - mean) * (x - mean)) / (n - 1);
        return (mean, t * Math.Sqrt(variance / n));
    }
}
