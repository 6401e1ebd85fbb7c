// Two namespaces that use each other, on purpose: StructureTests checks that its cycle check finds them.
namespace PricingOptimizer.Tests.Architecture.CycleA
{
    public sealed class UsesB
    {
        public CycleB.UsesA? Other { get; set; }
    }
}

namespace PricingOptimizer.Tests.Architecture.CycleB
{
    public sealed class UsesA
    {
        public CycleA.UsesB? Other { get; set; }
    }
}
